using Steward.Server.Backups.Retention;
using Steward.State;

namespace Steward.Server.Backups.Schedules;

/// <summary>Registers scheduled backups, retention and durable deletion.</summary>
internal static class ScheduleServiceCollectionExtensions
{
    public static IServiceCollection AddBackupSchedules(this IServiceCollection services, BackupScheduleOptions options)
    {
        services.AddSingleton(options);
        // The SQLite store itself, not IStateStore: observability wraps that interface in a proxy.
        services.AddSingleton<IScheduleStore>(sp => sp.GetRequiredService<Steward.State.Relational.RelationalStateStore>());
        services.AddSingleton<BackupDeleter>();
        services.AddSingleton<RetentionService>();
        services.AddSingleton<IBackupObserver>(sp => sp.GetRequiredService<RetentionService>());
        services.AddSingleton<IBackupRunner, BackupServiceRunner>();
        services.AddSingleton<IPlanDefaults, PlanDefaults>();
        services.AddSingleton<ScheduleView>();
        services.AddSingleton<BackupScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<BackupScheduler>());
        return services;
    }
}
