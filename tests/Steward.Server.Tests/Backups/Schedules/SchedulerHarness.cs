using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Steward.Backup.Tests.Infrastructure;
using Steward.Backups;
using Steward.Errors;
using Steward.Instances;
using Steward.Server.Backups.Schedules;
using Steward.Server.Operations;
using Steward.State.Sqlite;

namespace Steward.Server.Tests.Backups.Schedules;

/// <summary>
/// The real scheduler over a real SQLite state file on a driven clock. Backups are recorded in the store by a
/// stand-in runner and finished by the test, since what is under test is when runs start, not the pipeline.
/// </summary>
internal sealed class SchedulerHarness : IDisposable
{
    private readonly TempDirectory _dir = new();

    public SchedulerHarness(DateTimeOffset start, BackupScheduleOptions? options = null, BackupSchedule? planDefault = null)
    {
        Clock = new FakeTimeProvider(start);
        Store = new SqliteStateStore(_dir.File("steward.db"), Steward.Security.CredentialKey.LoadOrCreate(_dir.File(Steward.Security.CredentialKey.FileName)));
        Store.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
        Options = options ?? new BackupScheduleOptions { MaxJitter = TimeSpan.Zero, MaxConcurrent = 100 };
        Runner = new FakeRunner(Store, Clock);
        Plans = new FixedPlan(planDefault);
        Scheduler = NewScheduler();
    }

    public FakeTimeProvider Clock { get; }

    public SqliteStateStore Store { get; }

    public BackupScheduleOptions Options { get; }

    public FakeRunner Runner { get; }

    public FixedPlan Plans { get; }

    public BackupScheduler Scheduler { get; private set; }

    /// <summary>A new scheduler on the same state file: what a restarted broker has.</summary>
    public BackupScheduler Restart() => Scheduler = NewScheduler();

    public async Task<ServiceInstance> InstanceAsync(string id, InstanceState state = InstanceState.Ready)
    {
        var instance = new ServiceInstance
        {
            Id = id,
            InternalId = "i-" + id,
            ServiceId = "svc",
            PlanId = "plan",
            AdminUser = "admin",
            AdminPassword = "secret",
            State = state,
            CreatedAt = Clock.GetUtcNow(),
            UpdatedAt = Clock.GetUtcNow(),
        };
        await Store.SaveInstanceAsync(instance, CancellationToken.None);
        return instance;
    }

    public Task<BackupSchedule> ScheduleAsync(string instance, string? cron = null, TimeSpan? every = null, string zone = "UTC", RetentionPolicy? retention = null) =>
        Scheduler.SetAsync(
            new BackupSchedule
            {
                InstanceId = instance,
                Source = "instance",
                Cron = cron,
                Every = every,
                TimeZone = zone,
                Retention = retention ?? RetentionPolicy.None,
                NextRunAt = Clock.GetUtcNow(),
                DueAt = Clock.GetUtcNow(),
                CreatedAt = Clock.GetUtcNow(),
                UpdatedAt = Clock.GetUtcNow(),
            },
            CancellationToken.None);

    public Task TickAsync() => Scheduler.TickAsync(CancellationToken.None);

    /// <summary>Advances the clock in steps of <paramref name="step"/>, ticking after each, as the running broker does.</summary>
    public async Task RunForAsync(TimeSpan duration, TimeSpan step, Func<Task>? afterTick = null)
    {
        var end = Clock.GetUtcNow() + duration;
        while (Clock.GetUtcNow() < end)
        {
            Clock.Advance(step);
            await TickAsync();
            if (afterTick is not null)
            {
                await afterTick();
            }
        }
    }

    public Task<BackupSchedule?> GetAsync(string instance) => Store.GetScheduleAsync(instance, CancellationToken.None);

    public void Dispose() => _dir.Dispose();

    private BackupScheduler NewScheduler() =>
        new(Store, new InstanceIndex(Store, Store, Clock), Store, Runner, Plans, Options, Clock, NullLogger<BackupScheduler>.Instance);

    /// <summary>Records backups as the backup service does; the test decides when and how each ends.</summary>
    internal sealed class FakeRunner(SqliteStateStore store, TimeProvider clock) : IBackupRunner
    {
        private readonly Dictionary<string, BackupRecord> _running = [];
        private int _count;

        public List<BackupRecord> Started { get; } = [];

        public int MaxRunning { get; private set; }

        /// <summary>When set, backups end as soon as they start: succeeded, or failed at this stage.</summary>
        public string? FailAtStage { get; set; }

        public bool FinishImmediately { get; set; }

        public int RunningCount => _running.Count;

        public bool IsRunning(string instanceId) => _running.Values.Any(b => b.InstanceId == instanceId);

        public async Task<BackupRecord> StartAsync(ServiceInstance instance, string? kind, CancellationToken cancellationToken)
        {
            if (IsRunning(instance.Id))
            {
                throw StewardException.Concurrency($"a backup of instance {instance.Id} is already running");
            }

            var record = new BackupRecord
            {
                Id = $"bk-{++_count:D5}-{instance.Id}",
                InstanceId = instance.Id,
                Service = "svc",
                Kind = kind ?? "physical",
                State = BackupState.InProgress,
                Storage = "filesystem",
                Key = $"{instance.Id}/bk-{_count:D5}",
                StartedAt = clock.GetUtcNow(),
            };
            await store.SaveBackupAsync(record, cancellationToken);
            Started.Add(record);
            _running[record.Id] = record;
            MaxRunning = Math.Max(MaxRunning, _running.Count);
            if (FinishImmediately || FailAtStage is not null)
            {
                await FinishAsync(record.Id, FailAtStage);
            }

            return record;
        }

        /// <summary>Ends a running backup: succeeded, or failed at <paramref name="failedStage"/>.</summary>
        public async Task FinishAsync(string backupId, string? failedStage = null)
        {
            var record = _running[backupId];
            _running.Remove(backupId);
            await store.SaveBackupAsync(
                failedStage is null
                    ? record with { State = BackupState.Succeeded, CompletedAt = clock.GetUtcNow(), StoredSha256 = "00" }
                    : record with { State = BackupState.Failed, FailedStage = failedStage, FailureKind = "storage", Message = "connection refused", CompletedAt = clock.GetUtcNow() },
                CancellationToken.None);
        }

        public async Task FinishAllAsync()
        {
            foreach (var id in _running.Keys.ToList())
            {
                await FinishAsync(id);
            }
        }
    }

    internal sealed class FixedPlan(BackupSchedule? planDefault) : IPlanDefaults
    {
        public BackupSchedule? Default { get; set; } = planDefault;

        public BackupSchedule? DefaultFor(ServiceInstance instance, DateTimeOffset now) =>
            Default is null ? null : Default with { InstanceId = instance.Id, CreatedAt = now, UpdatedAt = now };

        public Steward.Rehearsals.DrillSchedule? DrillDefaultFor(ServiceInstance instance, DateTimeOffset now) => null;

        public TimeSpan MinimumInterval(ServiceInstance instance) => TimeSpan.FromHours(1);
    }
}
