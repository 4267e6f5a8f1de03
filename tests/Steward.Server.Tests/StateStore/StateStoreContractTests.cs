using Steward.Backups;
using Steward.Instances;
using Steward.Operations;
using Steward.Pool;
using Steward.Server.Tests.Infrastructure;
using Steward.Supervision;
using Steward.Wal;

namespace Steward.Server.Tests.StateStore;

/// <summary>
/// What the domain relies on from its state store, run alike against SQLite and a real PostgreSQL: the same answers,
/// the same order ("newest" is the last saved, not the latest timestamp), the same compare-and-set guarantees.
/// </summary>
public sealed class StateStoreContractTests(StatePostgres postgres) : StoreTests(postgres)
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task An_instance_reads_back_as_saved_with_its_password_and_a_deleted_one_is_listed_nowhere_but_by_id(string kind)
    {
        var (store, _) = await Stores.CreateAsync(kind);
        await store.SaveInstanceAsync(Instance("a", port: 20001), default);
        await store.SaveInstanceAsync(Instance("b", port: 20002) with { ParametersJson = """{"x":"é ü"}""", ContextJson = """{"platform":"cf"}""" }, default);
        await store.SaveInstanceAsync(Instance("gone", port: 20003) with { State = InstanceState.Deleted }, default);

        var b = (await store.GetInstanceAsync("b", default))!;
        b.ShouldBe(Instance("b", port: 20002) with { ParametersJson = """{"x":"é ü"}""", ContextJson = """{"platform":"cf"}""" });
        (await store.ListInstancesAsync(default)).Select(i => i.Id).ShouldBe(["a", "b"]);
        (await store.GetInstanceAsync("gone", default))!.State.ShouldBe(InstanceState.Deleted);
        (await store.AllocatedPortsAsync(default)).ShouldBe([20001, 20002], ignoreOrder: true);
        (await store.GetInstanceAsync("never", default)).ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task The_latest_operation_is_the_last_one_saved_and_in_progress_ones_come_oldest_first(string kind)
    {
        var (store, _) = await Stores.CreateAsync(kind);
        await store.SaveInstanceAsync(Instance("i", port: null), default);

        // Same timestamps: only the order of the saves tells them apart.
        await store.SaveOperationAsync(Op("op-2", OperationKind.Provision, OperationState.InProgress), default);
        await store.SaveOperationAsync(Op("op-1", OperationKind.Update, OperationState.InProgress), default);
        await store.SaveOperationAsync(Op("op-b", OperationKind.Bind, OperationState.Succeeded) with { BindingId = "bind" }, default);
        await store.SaveOperationAsync(Op("op-2", OperationKind.Provision, OperationState.Succeeded) with { InstanceUsable = true, Step = "done" }, default);

        (await store.LatestInstanceOperationAsync("i", default))!.Id.ShouldBe("op-1", "an update of an older operation does not make it the latest");
        (await store.LatestBindingOperationAsync("i", "bind", default))!.Id.ShouldBe("op-b");
        (await store.ListInProgressOperationsAsync(default)).Select(o => o.Id).ShouldBe(["op-1"]);
        var done = (await store.GetOperationAsync("op-2", default))!;
        (done.State, done.InstanceUsable, done.Step).ShouldBe((OperationState.Succeeded, (bool?)true, "done"));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_binding_is_found_by_its_token_until_it_is_deleted_and_a_purge_removes_the_instance_with_everything_of_it(string kind)
    {
        var (store, _) = await Stores.CreateAsync(kind);
        await store.SaveInstanceAsync(Instance("i", port: 20010), default);
        var token = Stores.Key.ApiToken("i", "b1", "u1");
        await store.SaveBindingAsync(Binding("b1", "i") with { ApiToken = token }, default);
        await store.SaveBindingAsync(Binding("b2", "i"), default);
        await store.SaveOperationAsync(Op("op", OperationKind.Provision, OperationState.Succeeded), default);

        (await store.FindBindingByTokenHashAsync(Steward.Security.Secrets.TokenHash(token), default))!.Id.ShouldBe("b1");
        (await store.GetBindingAsync("i", "b1", default))!.ApiToken.ShouldBe(token);
        (await store.FindBindingAsync("b2", default))!.Password.ShouldBe("binding-secret-b2");
        await store.DeleteBindingAsync("i", "b1", default);
        (await store.FindBindingByTokenHashAsync(Steward.Security.Secrets.TokenHash(token), default)).ShouldBeNull();

        await store.PurgeInstanceAsync("i", default);
        (await store.GetInstanceAsync("i", default)).ShouldBeNull();
        (await store.ListBindingsAsync("i", default)).ShouldBeEmpty();
        (await store.GetOperationAsync("op", default)).ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_binding_is_found_by_its_token_through_an_index_not_by_reading_every_binding(string kind)
    {
        var (_, where) = await Stores.CreateAsync(kind);

        // The statement FindBindingByTokenHashAsync runs, as each dialect's planner answers it (PostgreSQL told to avoid
        // a sequential scan where it has anything else: its tables here are too small for it to prefer an index).
        const string lookup = "SELECT id FROM bindings WHERE api_token_hash = 'abc' AND state = 'Created'";
        var plan = new System.Text.StringBuilder();
        if (kind == "sqlite")
        {
            await using var conn = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={where};Pooling=false");
            await conn.OpenAsync();
            await using var cmd = new Microsoft.Data.Sqlite.SqliteCommand("EXPLAIN QUERY PLAN " + lookup, conn);
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                plan.AppendLine(reader.GetString(3));
            }
        }
        else
        {
            await using var conn = new Npgsql.NpgsqlConnection(Postgres.ConnectionString(new Uri(where).AbsolutePath.TrimStart('/')));
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand("SET enable_seqscan = off; EXPLAIN " + lookup, conn);
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                plan.AppendLine(reader.GetString(0));
            }
        }

        plan.ToString().ShouldContain("bindings_token", Case.Sensitive, plan.ToString());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Provisions_taking_from_the_warm_pool_at_once_never_get_the_same_entry(string kind)
    {
        var (store, _) = await Stores.CreateAsync(kind);
        for (var n = 0; n < 3; n++)
        {
            await store.SavePoolEntryAsync(new PoolEntry { Id = $"e{n}", ServiceId = "pg", Fingerprint = "f", State = PoolEntryState.Ready, AdminPassword = "pool-pw", CreatedAt = T0.AddSeconds(n) }, default);
        }

        var takes = await Task.WhenAll(Enumerable.Range(0, 8).Select(n => Task.Run(() => store.TakePoolEntryAsync("pg", "f", $"inst-{n}", default))));
        var taken = takes.Where(t => t is not null).Select(t => t!.Id).ToList();
        taken.Count.ShouldBe(3, "three entries, eight takers: three get one");
        taken.Distinct().Count().ShouldBe(3, "no entry is handed to two instances");
        var winner = takes.Select((t, n) => (t, n)).First(x => x.t is not null);
        (await store.TakePoolEntryAsync("pg", "f", $"inst-{winner.n}", default))!.Id.ShouldBe(winner.t!.Id, "a retried take gets the same entry back");
        (await store.ListPoolEntriesAsync(default)).ShouldAllBe(e => e.State == PoolEntryState.Taken && e.AdminPassword == "pool-pw");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Backups_and_incidents_list_newest_first_and_pins_and_recovery_points_follow_them(string kind)
    {
        var (store, _) = await Stores.CreateAsync(kind);
        foreach (var (id, instance, state) in new[] { ("bk1", "i", BackupState.Succeeded), ("bk2", "j", BackupState.Failed), ("bk3", "i", BackupState.Succeeded) })
        {
            await store.SaveBackupAsync(new BackupRecord { Id = id, InstanceId = instance, Service = "postgresql", Kind = "full", State = state, Storage = "fs", Key = id, PlaintextBytes = 5_000_000_000, StartedAt = T0, CompletedAt = T0.AddMinutes(id[^1] - '0') }, default);
        }

        (await store.ListBackupsAsync(null, default)).Select(b => b.Id).ShouldBe(["bk3", "bk2", "bk1"]);
        (await store.GetBackupAsync("bk1", default))!.PlaintextBytes.ShouldBe(5_000_000_000, "byte counts past 2 GiB survive");
        (await store.LastSuccessfulBackupsAsync(default)).ShouldBe(new Dictionary<string, DateTimeOffset> { ["i"] = T0.AddMinutes(3) });
        await store.SetPinnedAsync("bk1", T0, default);
        await store.SetPinnedAsync("bk1", T0.AddDays(1), default);
        (await store.PinnedBackupsAsync("i", default)).ShouldBe(["bk1"]);
        await store.SetPinnedAsync("bk1", null, default);
        (await store.PinnedBackupsAsync(null, default)).ShouldBeEmpty();

        await store.SaveIncidentAsync(Incident("in1", IncidentState.Open), default);
        await store.SaveIncidentAsync(Incident("in2", IncidentState.Open), default);
        await store.SaveIncidentAsync(Incident("in1", IncidentState.Resolved), default);
        (await store.ListIncidentsAsync("i", default)).Select(i => (i.Id, i.State)).ShouldBe([("in2", IncidentState.Open), ("in1", IncidentState.Resolved)]);
        (await store.GetIncidentAsync("in2", default))!.Evidence["exit"]!.ToString().ShouldBe("137");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_schedule_is_replaced_not_duplicated_and_schedules_come_by_when_they_are_due(string kind)
    {
        var (store, _) = await Stores.CreateAsync(kind);
        await store.SaveScheduleAsync(Schedule("late", T0.AddHours(2)), default);
        await store.SaveScheduleAsync(Schedule("soon", T0.AddHours(1)) with { Every = TimeSpan.FromDays(40) }, default);
        await store.SaveScheduleAsync(Schedule("late", T0) with { Attempts = 2, RetryAt = T0.AddMinutes(5) }, default);

        (await store.ListSchedulesAsync(default)).Select(s => s.InstanceId).ShouldBe(["late", "soon"]);
        var late = (await store.GetScheduleAsync("late", default))!;
        (late.Attempts, late.RetryAt, late.DueAt).ShouldBe((2, (DateTimeOffset?)T0.AddMinutes(5), T0));
        (await store.GetScheduleAsync("soon", default))!.Every.ShouldBe(TimeSpan.FromDays(40));
        await store.DeleteScheduleAsync("late", default);
        (await store.ListSchedulesAsync(default)).Select(s => s.InstanceId).ShouldBe(["soon"]);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_restore_point_name_is_taken_once_and_a_wal_file_archived_again_is_replaced(string kind)
    {
        var (store, _) = await Stores.CreateAsync(kind);
        (await store.AddRestorePointAsync(new RestorePoint("i", "before-migration", "0/3000000", 1, T0), default)).ShouldBeTrue();
        (await store.AddRestorePointAsync(new RestorePoint("i", "before-migration", "0/4000000", 1, T0), default)).ShouldBeFalse("the name is taken");
        (await store.ListRestorePointsAsync("i", default)).Single().Lsn.ShouldBe("0/3000000");

        var wal = new WalFile { InstanceId = "i", Name = "000000010000000000000001", Key = "k1", PlaintextDigest = "d", StoredSha256 = "s", ArchivedAt = T0 };
        await store.SaveWalFileAsync(wal, default);
        await store.SaveWalFileAsync(wal with { Key = "k2", CommitsRead = true, LastCommitAt = T0.AddSeconds(3) }, default);
        var read = (await store.ListWalFilesAsync("i", default)).Single();
        (read.Key, read.CommitsRead, read.LastCommitAt).ShouldBe(("k2", true, (DateTimeOffset?)T0.AddSeconds(3)));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Pruning_drops_old_finished_history_but_keeps_each_latest_operation_and_open_incidents(string kind)
    {
        var (store, _) = await Stores.CreateAsync(kind);
        await store.SaveOperationAsync(Op("old", OperationKind.Provision, OperationState.Succeeded), default);
        await store.SaveOperationAsync(Op("latest", OperationKind.Update, OperationState.Failed), default);
        await store.SaveOperationAsync(Op("running", OperationKind.Update, OperationState.InProgress) with { InstanceId = "other" }, default);
        await store.SaveIncidentAsync(Incident("resolved", IncidentState.Resolved), default);
        await store.SaveIncidentAsync(Incident("open", IncidentState.Open), default);

        (await store.PruneHistoryAsync(T0.AddDays(1), T0.AddDays(1), default)).ShouldBe((1, 1));
        (await store.GetOperationAsync("old", default)).ShouldBeNull();
        (await store.LatestInstanceOperationAsync("i", default))!.Id.ShouldBe("latest");
        (await store.ListIncidentsAsync(null, default)).Select(i => i.Id).ShouldBe(["open"]);
    }

    private static Steward.Instances.ServiceInstance Instance(string id, int? port) => new()
    {
        Id = id, InternalId = "int-" + id, ServiceId = "pg", PlanId = "small", Port = port, AdminUser = "admin", AdminPassword = "admin-secret-" + id,
        State = InstanceState.Ready, CreatedAt = T0, UpdatedAt = T0.AddSeconds(1),
    };

    private static ServiceBinding Binding(string id, string instance) => new()
    {
        Id = id, InstanceId = instance, ServiceId = "pg", PlanId = "small", Username = "u" + id[1..], Password = "binding-secret-" + id, State = BindingState.Created, CreatedAt = T0,
    };

    private static Operation Op(string id, OperationKind kind, OperationState state) => new()
    {
        Id = id, InstanceId = "i", Kind = kind, State = state, Description = kind + " " + state, CreatedAt = T0, UpdatedAt = T0,
    };

    private static Incident Incident(string id, IncidentState state) => new()
    {
        Id = id, InstanceId = "i", Class = FailureClass.KilledBySignal, State = state, Summary = "killed", Evidence = new Dictionary<string, object?> { ["exit"] = 137 }, OpenedAt = T0, UpdatedAt = T0,
    };

    private static BackupSchedule Schedule(string instance, DateTimeOffset due) => new()
    {
        InstanceId = instance, Source = "instance", Every = TimeSpan.FromHours(1), NextRunAt = due, DueAt = due, CreatedAt = T0, UpdatedAt = T0,
    };
}
