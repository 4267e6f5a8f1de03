using System.Data.Common;
using System.Net.Sockets;
using Steward.State;

namespace Steward.Server.StateStore;

/// <summary>Opens the state store at start: its schema created or migrated, or one line saying why it cannot be used.</summary>
internal static class StateStoreStart
{
    /// <summary>Exit code of a broker whose state store cannot be used (unreachable, refused, another credentials key).</summary>
    public const int ExitCode = 3;

    /// <summary>
    /// Initializes the store; false (after one line on standard error, which names where the store is but never its
    /// password) when it cannot be used: the broker must not start without its state.
    /// </summary>
    public static async Task<bool> InitializeStateStoreAsync(this IServiceProvider services, ILogger logger, string stateFile)
    {
        var options = services.GetRequiredService<StateStoreOptions>();
        var where = options.UsesPostgreSql ? $"PostgreSQL at {options.Connection.Description}" : stateFile;
        try
        {
            await services.GetRequiredService<IStateStore>().InitializeAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException or IOException or SocketException or TimeoutException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"steward-server: not started: the state store ({where}) cannot be used: {ex.Message}");
            return false;
        }

        StateLog.StateIn(logger, where);
        return true;
    }
}
