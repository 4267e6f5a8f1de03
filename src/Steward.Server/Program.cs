using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Steward.Backup.Sources;
using Steward.Engines;
using Steward.Runtime;
using Steward.Runtime.Local;
using Steward.Security;
using Steward.Server.Api;
using Steward.Server.Backups;
using Steward.Server.Backups.Schedules;
using Steward.Server.Backups.Wal;
using Steward.Server.Broker;
using Steward.Server.Configuration;
using Steward.Server.Dashboard;
using Steward.Server.Events;
using Steward.Server.HighAvailability;
using Steward.Server.Http;
using Steward.Server.Logging;
using Steward.Server.Metrics;
using Steward.Server.Operations;
using Steward.Server.Osb;
using Steward.Server.Pool;
using Steward.Server.Rebuild;
using Steward.Server.Rehearsals;
using Steward.Server.Runtimes;
using Steward.Server.StateStore;
using Steward.Server.Supervision;
using Steward.State;

var (settings, problems) = StewardConfiguration.Load(args, Environment.GetEnvironmentVariables());
if (problems.Count > 0)
{
    return SettingsErrors.Report(problems);
}

// Steward reads no appsettings.json (its settings come from StewardConfiguration), so the host watches nothing: by default
// it watches its content root, the working directory, recursively for changes to that file, which put an inotify watch on
// every directory below it (the instances' data directories when the data lives there, as in the tests and benches) and
// woke a thread for every write to them (3.8 s of the broker's CPU while pgbench loaded 1.6 GB in the backup bench).
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
{
    Args = ["--hostBuilder:reloadConfigOnChange=false"],
    ContentRootPath = AppContext.BaseDirectory,
});
builder.Services.AddSettings<LoggingOptions>(settings);
builder.Logging.AddStewardConsole(settings.GetSection("Logging").Get<LoggingOptions>()?.Format);

// Header bytes outside ASCII reach RequestValidationMiddleware (a 400 with an OSB error body) instead of Kestrel's bare 400.
builder.WebHost.ConfigureKestrel(kestrel => kestrel.RequestHeaderEncodingSelector = _ => System.Text.Encoding.Latin1);
builder.Services.AddSettings<StewardOptions>(settings);
builder.Services.AddSettings<SupervisionOverrides>(settings);
builder.Services.AddSettings<HeartbeatOptions>(settings);
builder.Services.AddSettings<BackupOptions>(settings);
builder.Services.AddSettings<HaOptions>(settings);
builder.Services.AddSettings<AdmissionOptions>(settings);
builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<StewardOptions>>().Value with { Supervision = sp.GetRequiredService<IOptions<SupervisionOverrides>>().Value });

var services = builder.Services;
services.AddSingleton(sp => BrokerCredentials.Load(sp.GetRequiredService<StewardOptions>()));
services.AddSingleton(TimeProvider.System);
services.AddSingleton(sp => CredentialKey.LoadOrCreate(Path.Combine(sp.GetRequiredService<StewardOptions>().DataDir, CredentialKey.FileName)));
services.AddStateStore(settings);
services.AddInstanceRuntime(settings);
services.AddSettings<EngineBinariesOptions>(settings);
var binaries = settings.GetSection("Engines").Get<EngineBinariesOptions>() ?? new();
services.AddPostgreSqlEngine(binaries.PostgreSql);
services.AddRedisEngine(binaries.Redis, (sp, redis) => redis with { CheckReconnectInterval = sp.GetRequiredService<IOptions<HeartbeatOptions>>().Value.RedisCheckReconnectInterval });
services.AddSingleton<EngineRegistry>();
services.AddSingleton<PortAllocator>();
services.AddSingleton<MachineCapacity>();
services.AddSingleton<InstanceWorkflows>();
services.AddWarmPool(settings);
services.AddHistoryRetention(settings);
services.AddSingleton<InstanceLocks>();
services.AddSingleton<OperationsInFlight>();
services.AddSingleton<OperationRunner>();
services.AddHostedService(sp => sp.GetRequiredService<OperationRunner>());
services.AddSingleton(sp => BackupSettings.Load(sp.GetRequiredService<StewardOptions>(), sp.GetRequiredService<IOptions<BackupOptions>>().Value));
services.AddSingleton(sp => BackupStorageFactory.Create(sp.GetRequiredService<BackupSettings>(), sp.GetRequiredService<ILoggerFactory>()));
services.AddSingleton<ProgressBoard>();
services.AddSingleton<BackupService>();
services.AddHostedService(sp => sp.GetRequiredService<BackupService>());
services.AddBackupSchedules(BackupScheduleOptions.FromEnvironment());
services.AddWalArchiving(settings, binaries.PostgreSql);
services.AddSingleton<HealthRegistry>();
services.AddSingleton<FailureClassifier>();
services.AddSingleton<Fence>();
services.AddSettings<PreservedOptions>(settings);
services.AddHostedService<PreservedSweeper>();
services.AddSettings<AutoRebuildOptions>(settings);
services.AddHostedService<AutoRebuilder>();
services.AddSingleton<Supervisor>();
services.AddHostedService(sp => sp.GetRequiredService<Supervisor>());
services.AddSingleton<BrokerLock>();
services.AddSingleton<OperationFactory>();
services.AddSingleton<InstanceBroker>();
services.AddSingleton<BindingBroker>();
services.AddStewardObservability();
services.AddStewardAuthentication();
services.AddStewardDashboard(settings);
services.AddHighAvailability();
services.AddRestoreRehearsals(settings);

// Last: with a PostgreSQL store, every hosted service registered above runs only while this broker holds the lease.
services.AddBrokerLease(settings);

var app = builder.Build();
if (app.Services.InvalidSettings() is { Count: > 0 } invalid)
{
    return SettingsErrors.Report(invalid);
}

var options = app.Services.GetRequiredService<StewardOptions>();
Directory.CreateDirectory(options.DataDir);
File.SetUnixFileMode(options.DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
app.Services.GetRequiredService<BrokerCredentials>();
app.Urls.Add(options.Listen);
app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.MaxRequestBodySize = options.MaxBodyBytes;
if (!await app.Services.InitializeStateStoreAsync(app.Logger, options.StateFile))
{
    return StateStoreStart.ExitCode;
}

await app.Services.LoadObservedStateAsync(CancellationToken.None);
app.Services.GetRequiredService<StewardMetrics>().Observe(app.Services.GetRequiredService<InstanceIndex>(), app.Services.GetRequiredService<Supervisor>(), app.Services.GetRequiredService<OperationsInFlight>());
app.UseRouting();
app.UseStewardHttpMetrics();
app.UseMiddleware<BrokerMiddleware>();
app.UseMiddleware<StandbyMiddleware>();
app.UseAuthentication();
app.UseAuthorization();
app.UseMiddleware<RequestValidationMiddleware>();
app.MapStewardEndpoints();

var source = options.BrokerPassword is null ? options.CredentialsFile : "STEWARD_BROKER_USERNAME/STEWARD_BROKER_PASSWORD";
if (SecretDirectory.SweepOrphans() is > 0 and var swept)
{
    Log.SecretDirectoriesSwept(app.Logger, swept);
}

Log.Listening(app.Logger, options.Listen, options.DataDir, source);
await app.RunAsync();
return 0;
