using Steward.Engines.PostgreSql;
using Steward.Engines.PostgreSql.Wal;
using Microsoft.Extensions.Options;
using Steward.Server.Configuration;
using Steward.Security;
using Steward.State;
using Steward.Wal;

namespace Steward.Server.Backups.Wal;

/// <summary>Registers continuous WAL archiving and point-in-time restore.</summary>
internal static class WalServiceCollectionExtensions
{
    /// <summary>
    /// Adds archiving and restore, and configures the PostgreSQL engine (registered before, from <paramref name="engine"/>)
    /// to archive to this broker: the engine is registered again with the archive settings, and the last registration wins.
    /// </summary>
    public static IServiceCollection AddWalArchiving(this IServiceCollection services, IConfiguration configuration, PostgreSqlEngineOptions engine)
    {
        services.AddSettings<WalOptions>(configuration);
        services.AddSingleton(sp => WalSettings.From(sp.GetRequiredService<IOptions<WalOptions>>().Value, sp.GetRequiredService<StewardOptions>()) is var wal
            && !sp.GetRequiredService<Steward.Runtime.IInstanceRuntime>().SharesFiles
                // Off where instances do not share the broker's files (Kubernetes): a point-in-time restore puts files
                // in place beside the broker, and a pod's archive_command does not reach a loopback broker URL.
                ? wal with { Enabled = false }
                : wal);
        services.AddSingleton(sp =>
        {
            var wal = sp.GetRequiredService<WalSettings>();
            var heartbeat = sp.GetRequiredService<IOptions<Supervision.HeartbeatOptions>>().Value;
            return new PostgreSqlEngine(engine with
            {
                Wal = wal.Enabled ? new PostgreSqlWalOptions { BrokerUrl = wal.BrokerUrl, ArchiveTimeout = wal.ArchiveTimeout } : null,
                HeartbeatInterval = heartbeat.HeartbeatInterval,
                CheckReconnectInterval = heartbeat.CheckReconnectInterval,
                BackupReadsDataDirectory = sp.GetRequiredService<IOptions<BackupOptions>>().Value.PostgreSqlSource == "data-directory",
            }, sp.GetRequiredService<TimeProvider>());
        });
        // The state store itself (IStateStore may be wrapped: metrics observe it), whose tables it creates at start.
        services.AddSingleton<IWalCatalog>(sp => sp.GetRequiredService<Steward.State.Relational.RelationalStateStore>());
        services.AddSingleton<WalArchive>();
        services.AddSingleton<WalSpool>();
        services.AddHostedService(sp => sp.GetRequiredService<WalSpool>());
        services.AddSingleton<Retention.IRetentionParticipant, WalRetention>();
        services.AddSingleton(sp => new WalInspector(sp.GetRequiredService<PostgreSqlEngine>()));
        services.AddSingleton<RecoveryPlanner>();
        services.AddSingleton<WalMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<WalMonitor>());
        return services;
    }
}
