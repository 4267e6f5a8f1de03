using Steward.Server.Configuration;
using Steward.State;

namespace Steward.Server.Rehearsals;

/// <summary>Registers restore rehearsals.</summary>
internal static class RehearsalServiceCollectionExtensions
{
    public static IServiceCollection AddRestoreRehearsals(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<RehearsalOptions>(configuration);
        services.AddSettings<SandboxLimitsOptions>(configuration);
        services.AddSingleton<SandboxCgroups>();
        services.AddSingleton<IRehearsalStore>(sp => new RehearsalEvents(sp.GetRequiredService<Steward.State.Relational.RelationalStateStore>(), sp.GetRequiredService<Events.EventHub>(), sp.GetRequiredService<Backups.ProgressBoard>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<RehearsalIncidents>();
        services.AddSingleton<RehearsalRun>();
        services.AddSingleton<RehearsalView>();
        services.AddSingleton<RehearsalService>();
        services.AddHostedService(sp => sp.GetRequiredService<RehearsalService>());
        services.AddSingleton<IDrillScheduleStore>(sp => sp.GetRequiredService<Steward.State.Relational.RelationalStateStore>());
        services.AddSingleton<DrillScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<DrillScheduler>());
        Repair.RepairServiceCollectionExtensions.AddDamageDetection(services);
        return services;
    }
}
