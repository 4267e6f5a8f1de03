using Steward.Engines;
using Steward.Runtime;
using Steward.Runtime.Local;
using Steward.Server.Api;
using Steward.Server.Backups;
using Steward.Server.Broker;
using Steward.Server.Configuration;
using Steward.Server.Http;
using Steward.Server.Logging;
using Steward.Server.Operations;
using Steward.Server.Osb;
using Steward.Server.Supervision;
using Steward.State;
using Steward.State.Sqlite;

var options = StewardOptions.FromEnvironment(args);
Directory.CreateDirectory(options.DataDir);
File.SetUnixFileMode(options.DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
var credentials = BrokerCredentials.Load(options);

var builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.UseUrls(options.Listen);
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBodyBytes);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(c =>
{
    c.SingleLine = true;
    c.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
    c.UseUtcTimestamp = true;
});
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

var services = builder.Services;
services.AddSingleton(options);
services.AddSingleton(credentials);
services.AddSingleton(TimeProvider.System);
services.AddSingleton<IStateStore>(new SqliteStateStore(options.StateFile));
services.AddSingleton<IInstanceRuntime>(sp => new LocalProcessRuntime(
    new LocalRuntimeOptions { InstancesRoot = options.InstancesDir, ServiceUser = options.ServiceUser },
    sp.GetRequiredService<ILogger<LocalProcessRuntime>>()));
var binaries = EngineBinariesOptions.FromEnvironment();
services.AddPostgreSqlEngine(binaries.PostgreSql);
services.AddRedisEngine(binaries.Redis);
services.AddSingleton<EngineRegistry>();
services.AddSingleton<PortAllocator>();
services.AddSingleton<InstanceWorkflows>();
services.AddSingleton<InstanceLocks>();
services.AddSingleton<OperationRunner>();
services.AddHostedService(sp => sp.GetRequiredService<OperationRunner>());
services.AddSingleton(BackupSettings.Load(options));
services.AddSingleton(sp => BackupStorageFactory.Create(sp.GetRequiredService<BackupSettings>(), sp.GetRequiredService<ILoggerFactory>()));
services.AddSingleton<ProgressBoard>();
services.AddSingleton<BackupService>();
services.AddHostedService(sp => sp.GetRequiredService<BackupService>());
services.AddSingleton<HealthRegistry>();
services.AddSingleton<FailureClassifier>();
services.AddSingleton<Fence>();
services.AddSingleton<Supervisor>();
services.AddHostedService(sp => sp.GetRequiredService<Supervisor>());
services.AddSingleton<BrokerLock>();
services.AddSingleton<OperationFactory>();
services.AddSingleton<InstanceBroker>();
services.AddSingleton<BindingBroker>();

var app = builder.Build();
await app.Services.GetRequiredService<IStateStore>().InitializeAsync(CancellationToken.None);
app.UseMiddleware<BrokerMiddleware>();
app.MapOsb();
app.MapInstanceApi();
app.MapBackupApi();
app.MapGet("/", () => Results.Json(new { name = "steward", osb = "/v2/catalog", api = "/api/v1/instances" }));

var source = Environment.GetEnvironmentVariable("STEWARD_BROKER_PASSWORD") is null ? options.CredentialsFile : "STEWARD_BROKER_USERNAME/STEWARD_BROKER_PASSWORD";
Log.Listening(app.Logger, options.Listen, options.DataDir, source);
await app.RunAsync();
