using Microsoft.Extensions.DependencyInjection;

namespace Steward.Backup.Engines;

/// <summary>Registers backup methods.</summary>
public static class BackupMethodServiceCollectionExtensions
{
    /// <summary>Adds a backup method the broker offers for its service.</summary>
    public static IServiceCollection AddBackupMethod(this IServiceCollection services, IBackupMethod method)
    {
        services.AddSingleton(method);
        return services;
    }
}
