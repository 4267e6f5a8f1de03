using System.Diagnostics;
using Microsoft.Extensions.Options;
using Steward.Security;
using Steward.Server.Configuration;
using Steward.Server.Operations;
using Steward.State;
using Steward.State.PostgreSql;
using Steward.State.Relational;
using Steward.State.Sqlite;

namespace Steward.Server.StateStore;

/// <summary>Registers the state store the settings choose, and (with PostgreSQL) the lease that keeps one broker active.</summary>
internal static class StateStoreServiceCollectionExtensions
{
    /// <summary>The store as every part of the broker sees it: <see cref="IStateStore"/> and the store interfaces beside it.</summary>
    public static IServiceCollection AddStateStore(this IServiceCollection services, IConfiguration settings)
    {
        services.AddSettings<StateStoreOptions>(settings);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<StateStoreOptions>>().Value);
        services.AddSingleton<RelationalStateStore>(sp =>
        {
            var options = sp.GetRequiredService<StateStoreOptions>();
            var key = sp.GetRequiredService<CredentialKey>();
            return options.UsesPostgreSql
                ? new PostgreSqlStateStore(options.Connection, key)
                : new SqliteStateStore(sp.GetRequiredService<StewardOptions>().StateFile, key);
        });
        services.AddSingleton<IStateStore>(sp => sp.GetRequiredService<RelationalStateStore>());
        services.AddSingleton<IInstanceChangeFeed>(sp => sp.GetRequiredService<RelationalStateStore>());
        services.AddSingleton(sp => new InstanceIndex(sp.GetRequiredService<IStateStore>(), sp.GetService<IInstanceChangeFeed>(), sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    /// <summary>
    /// Call after every hosted service is registered. With the PostgreSQL store, those services become the work of the
    /// <see cref="ActiveBroker"/>, started only while this broker holds the lease; with SQLite the broker is alone and
    /// active from the start, and nothing changes.
    /// </summary>
    public static IServiceCollection AddBrokerLease(this IServiceCollection services, IConfiguration settings)
    {
        // Read raw: the settings are validated (and refused one line each) only once the host is built.
        if (settings[$"State:{nameof(StateStoreOptions.Store)}"] != StateStoreOptions.PostgreSql)
        {
            services.AddSingleton(sp => new BrokerRole(activeFromStart: true, sp.GetRequiredService<StateStoreOptions>().LeaseDuration));
            return services;
        }

        var work = services.Where(d => d.ServiceType == typeof(IHostedService)).ToList();
        foreach (var descriptor in work)
        {
            services.Remove(descriptor);
        }

        var me = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";
        services.AddSingleton(sp => new BrokerRole(activeFromStart: false, sp.GetRequiredService<StateStoreOptions>().LeaseDuration));
        services.AddSingleton(sp => new LeaseKeeper(sp.GetRequiredService<RelationalStateStore>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<StateStoreOptions>().LeaseDuration, me));
        services.AddHostedService(sp => new ActiveBroker(
            sp,
            work,
            sp.GetRequiredService<LeaseKeeper>(),
            sp.GetRequiredService<BrokerRole>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ActiveBroker>>(),
            KillSelf));
        return services;
    }

    /// <summary>The fence: the process ends as a kill -9 would end it; the durable operations are finished by the next active broker.</summary>
    private static void KillSelf(string reason)
    {
        Console.Error.WriteLine($"steward-server fenced: {reason}");
        Console.Error.Flush();
        using var self = Process.GetCurrentProcess();
        self.Kill();
    }
}
