using System.Collections.Concurrent;

namespace Steward.Engines;

/// <summary>
/// The connections an engine's recurring health check keeps open between checks, one per instance: a new
/// authenticated connection at every check of every instance was most of what an idle broker did with hundreds of
/// instances (docs/benchmarks.md, density). A connection is taken out while a check uses it, so two checks of one
/// instance never share one; it is given up once it is <see cref="ReconnectInterval"/> old, so that what only a new
/// connection proves (the server accepts connections, the password) is proven again within that bound; and those no
/// check used for two intervals (instances deleted or no longer supervised here) are closed by <see cref="SweepAsync"/>.
/// </summary>
/// <typeparam name="T">The engine's connection.</typeparam>
public sealed class HeldCheckConnections<T>(TimeSpan reconnectInterval, TimeProvider time)
    where T : class, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Held> _held = new(StringComparer.Ordinal);
    private long _sweptAt = time.GetTimestamp();

    /// <summary>How long one connection serves; zero or less: a new connection at every check, none held.</summary>
    public TimeSpan ReconnectInterval => reconnectInterval;

    /// <summary>True when connections are held at all.</summary>
    public bool Enabled => reconnectInterval > TimeSpan.Zero;

    /// <summary>Connections held now (none is in use by a check).</summary>
    public int Count => _held.Count;

    /// <summary>
    /// Takes out the instance's held connection when it was opened to <paramref name="target"/> (the address and user it
    /// authenticated as) and, unless <paramref name="anyAge"/>, less than <see cref="ReconnectInterval"/> ago; one that
    /// does not qualify is closed. Null when there is none to use: the caller opens a new one.
    /// </summary>
    public async ValueTask<(T Connection, long OpenedAt)?> TakeAsync(string instanceId, string target, bool anyAge = false)
    {
        if (!_held.TryRemove(instanceId, out var held))
        {
            return null;
        }

        if (held.Target == target && (anyAge || time.GetElapsedTime(held.OpenedAt) < reconnectInterval))
        {
            return (held.Connection, held.OpenedAt);
        }

        await held.Connection.DisposeAsync();
        return null;
    }

    /// <summary>
    /// Takes out the instance's held connection (as <see cref="TakeAsync"/>) and runs <paramref name="probe"/> on it. When
    /// the probe passes, the connection is returned, still taken out: the caller gives it back with <see cref="HoldAsync"/>.
    /// When it fails, the connection is closed and null returned: a held connection that fails (the server restarted,
    /// someone ended the session) fails nothing by itself, the caller tries again on a new one (<see cref="OpenAsync"/>),
    /// which decides. Cancellation (the check's timeout) closes it too and is thrown.
    /// </summary>
    public async Task<(T Connection, long OpenedAt)?> TakeProvenAsync(string instanceId, string target, Func<T, CancellationToken, Task> probe, CancellationToken cancellationToken, bool anyAge = false)
    {
        if (await TakeAsync(instanceId, target, anyAge) is not var (held, openedAt))
        {
            return null;
        }

        try
        {
            await probe(held, cancellationToken);
            return (held, openedAt);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            await held.DisposeAsync();
            return null;
        }
        catch
        {
            await held.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Opens a new connection, runs <paramref name="probe"/> on it and holds it for the next check; a connection whose
    /// probe fails is closed and the failure thrown.
    /// </summary>
    public async Task OpenAsync(string instanceId, string target, Func<CancellationToken, Task<T>> open, Func<T, CancellationToken, Task> probe, CancellationToken cancellationToken)
    {
        var connection = await open(cancellationToken);
        try
        {
            await probe(connection, cancellationToken);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await HoldAsync(instanceId, target, connection, time.GetTimestamp());
    }

    /// <summary>Keeps <paramref name="connection"/> for the instance's next check; closes it when one is held already.</summary>
    public async ValueTask HoldAsync(string instanceId, string target, T connection, long openedAt)
    {
        if (!Enabled || !_held.TryAdd(instanceId, new Held(connection, target, openedAt, time.GetTimestamp())))
        {
            await connection.DisposeAsync();
        }
    }

    /// <summary>
    /// Closes, at most once a minute, the connections no check used for two reconnect intervals (a minute at least):
    /// those of instances deleted, stopped or no longer supervised by this broker. True when it swept this time.
    /// </summary>
    public async ValueTask<bool> SweepAsync()
    {
        var swept = Interlocked.Read(ref _sweptAt);
        if (time.GetElapsedTime(swept) < TimeSpan.FromMinutes(1) || Interlocked.CompareExchange(ref _sweptAt, time.GetTimestamp(), swept) != swept)
        {
            return false;
        }

        var idle = TimeSpan.FromTicks(Math.Max(2 * reconnectInterval.Ticks, TimeSpan.FromMinutes(1).Ticks));
        foreach (var (instanceId, held) in _held)
        {
            if (time.GetElapsedTime(held.UsedAt) > idle && _held.TryRemove(new KeyValuePair<string, Held>(instanceId, held)))
            {
                await held.Connection.DisposeAsync();
            }
        }

        return true;
    }

    /// <summary>True when a connection is held for the instance.</summary>
    public bool Holds(string instanceId) => _held.ContainsKey(instanceId);

    /// <remarks>A class, not a record: nothing here should ever be printed.</remarks>
    private sealed class Held(T connection, string target, long openedAt, long usedAt)
    {
        public T Connection { get; } = connection;

        public string Target { get; } = target;

        public long OpenedAt { get; } = openedAt;

        public long UsedAt { get; } = usedAt;
    }
}
