using Microsoft.Extensions.DependencyInjection;
using Steward.Backup.Engines;
using Steward.Engines.PostgreSql;
using Steward.Engines.PostgreSql.Backup;
using Steward.Engines.PostgreSql.Replication;
using Steward.HighAvailability;

namespace Steward.Engines;

/// <summary>Registers the PostgreSQL engine.</summary>
public static class PostgreSqlServiceCollectionExtensions
{
    /// <summary>Adds PostgreSQL as a data service of the broker.</summary>
    public static IServiceCollection AddPostgreSqlEngine(this IServiceCollection services, PostgreSqlEngineOptions? options = null)
    {
        services.AddSingleton(sp => new PostgreSqlEngine(options ?? new PostgreSqlEngineOptions(), sp.GetService<TimeProvider>()));
        services.AddSingleton<IDataServiceEngine>(sp => sp.GetRequiredService<PostgreSqlEngine>());
        services.AddSingleton<IBackupMethod>(sp => new PostgreSqlPhysicalBackup(sp.GetRequiredService<PostgreSqlEngine>()));
        services.AddSingleton<IBackupMethod>(sp => new PostgreSqlIncrementalBackup(sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.AddSingleton<IBackupMethod>(sp => new PostgreSqlLogicalBackup(sp.GetRequiredService<PostgreSqlEngine>()));
        services.AddSingleton<IReplicationEngine>(sp => new PostgreSqlReplication(sp.GetRequiredService<PostgreSqlEngine>()));
        services.AddSingleton<Steward.Rehearsals.IRehearsalEngine>(sp => new PostgreSql.Rehearsal.PostgreSqlRehearsal(sp.GetRequiredService<PostgreSqlEngine>()));
        return services;
    }
}
