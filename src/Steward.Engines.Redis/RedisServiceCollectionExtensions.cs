using Microsoft.Extensions.DependencyInjection;
using Steward.Engines.Redis;

namespace Steward.Engines;

/// <summary>Registers the Redis engine.</summary>
public static class RedisServiceCollectionExtensions
{
    /// <summary>Adds Redis as a data service of the broker.</summary>
    public static IServiceCollection AddRedisEngine(this IServiceCollection services, RedisEngineOptions? options = null)
    {
        services.AddSingleton<IDataServiceEngine>(_ => new RedisEngine(options ?? new RedisEngineOptions()));
        return services;
    }
}
