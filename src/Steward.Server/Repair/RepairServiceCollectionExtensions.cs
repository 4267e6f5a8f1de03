using Steward.Engines.PostgreSql;
using Steward.Engines.PostgreSql.Verify;

namespace Steward.Server.Repair;

/// <summary>Registers damage detection (<c>steward verify</c>).</summary>
internal static class RepairServiceCollectionExtensions
{
    public static IServiceCollection AddDamageDetection(this IServiceCollection services) =>
        services.AddSingleton(sp => new PostgreSqlVerifier(sp.GetRequiredService<PostgreSqlEngine>()))
            .AddSingleton<RepairPlanner>();
}
