using Microsoft.Extensions.DependencyInjection;
using Steward.Engines.PostgreSql;

namespace Steward.Engines;

/// <summary>Registers the PostgreSQL engine.</summary>
public static class PostgreSqlServiceCollectionExtensions
{
    /// <summary>Adds PostgreSQL as a data service of the broker.</summary>
    public static IServiceCollection AddPostgreSqlEngine(this IServiceCollection services, PostgreSqlEngineOptions? options = null)
    {
        services.AddSingleton<IDataServiceEngine>(_ => new PostgreSqlEngine(options ?? new PostgreSqlEngineOptions()));
        return services;
    }
}
