using Microsoft.Extensions.DependencyInjection;
using Steward.Backup.Engines;
using Steward.Engines.Redis;
using Steward.Engines.Redis.Backup;
using Steward.Engines.Redis.Replication;
using Steward.HighAvailability;

namespace Steward.Engines;

/// <summary>Registers the Redis engine.</summary>
public static class RedisServiceCollectionExtensions
{
    /// <summary>
    /// Adds Redis as a data service of the broker; <paramref name="configure"/> completes <paramref name="options"/> from
    /// the host's settings once they are bound (the check's reconnect interval).
    /// </summary>
    public static IServiceCollection AddRedisEngine(this IServiceCollection services, RedisEngineOptions? options = null, Func<IServiceProvider, RedisEngineOptions, RedisEngineOptions>? configure = null)
    {
        var resolved = options ?? new RedisEngineOptions();
        services.AddSingleton(sp => new RedisEngine(configure?.Invoke(sp, resolved) ?? resolved, sp.GetService<TimeProvider>()));
        services.AddSingleton<IDataServiceEngine>(sp => sp.GetRequiredService<RedisEngine>());
        services.AddSingleton<IReplicationEngine>(sp => new RedisReplication(sp.GetRequiredService<RedisEngine>()));
        services.AddSingleton<IBackupMethod>(_ => new RedisRdbBackup(resolved));
        services.AddSingleton<Steward.Rehearsals.IRehearsalEngine>(_ => new Redis.Rehearsal.RedisRehearsal(resolved));
        return services;
    }
}
