using Microsoft.Extensions.DependencyInjection;
using Steward.Backup.Engines;
using Steward.Engines.Redis;
using Steward.Engines.Redis.Backup;

namespace Steward.Engines;

/// <summary>Registers the Redis engine.</summary>
public static class RedisServiceCollectionExtensions
{
    /// <summary>Adds Redis as a data service of the broker.</summary>
    public static IServiceCollection AddRedisEngine(this IServiceCollection services, RedisEngineOptions? options = null)
    {
        var resolved = options ?? new RedisEngineOptions();
        services.AddSingleton<IDataServiceEngine>(_ => new RedisEngine(resolved));
        services.AddSingleton<IBackupMethod>(_ => new RedisRdbBackup(resolved));
        return services;
    }
}
