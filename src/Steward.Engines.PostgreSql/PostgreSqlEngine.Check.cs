using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Npgsql;
using Steward.Runtime;

namespace Steward.Engines.PostgreSql;

/// <summary>
/// The supervisor's recurring check keeps one connection per instance open between checks. A new connection costs
/// the broker a SCRAM exchange (4 096 rounds of HMAC-SHA-256) and the server a backend process, every check of every
/// instance (every 5 s by default); with dozens of instances that was most of what an idle broker did after the
/// heartbeat stopped making WAL (docs/benchmarks.md, density). The held connection proves what a check proves (the
/// server answers, is a primary that accepts writes, commits its heartbeat when due). That the server still accepts
/// new sessions (its postmaster runs, is not hung, has a free connection slot, is not shutting down) is proven at
/// every check by <see cref="PingAsync"/>, as <c>pg_isready</c> does, without authenticating; the password is proven
/// on a new connection at least every <see cref="PostgreSqlEngineOptions.CheckReconnectInterval"/>, and at the next
/// check after the held connection failed. A held connection that fails (the server restarted, or someone ended the
/// session) does not fail the check by itself: the check is made again on a new connection, which decides.
/// </summary>
public sealed partial class PostgreSqlEngine
{
    /// <summary>The <c>application_name</c> of the checks' sessions, as <c>pg_stat_activity</c> shows them.</summary>
    public const string CheckApplicationName = "steward-check";

    private readonly TimeProvider _time;
    private readonly HeldCheckConnections<NpgsqlConnection> _checkConnections;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _checkSessionTurns = new(StringComparer.Ordinal);

    public async Task CheckAsync(EngineContext context, CancellationToken cancellationToken)
    {
        if (!_checkConnections.Enabled)
        {
            await ProbeAsync(context, cancellationToken);
            return;
        }

        await SweepCheckConnectionsAsync();
        var target = Target(context);
        using var turn = await SessionTurnAsync(context.Instance.Id, cancellationToken);

        // Taken out while in use, so two checks of one instance at once never share a connection; one too old is closed.
        // The session first: a server that restarted since replaces it (below) instead of failing the ping's check of a
        // server still starting.
        if (await _checkConnections.TakeProvenAsync(context.Instance.Id, target, ProbeOnAsync, cancellationToken) is var (held, openedAt))
        {
            try
            {
                await PingAsync(context.Host, context.Port, context.Instance.AdminUser, cancellationToken);
            }
            catch
            {
                // Let go of the session too: a server shutting down "smart" (SIGTERM) waits for every session to end, and
                // the check's own must not be what keeps it from stopping.
                await held.DisposeAsync();
                throw;
            }

            await _checkConnections.HoldAsync(context.Instance.Id, target, held, openedAt);
            return;
        }

        await _checkConnections.OpenAsync(context.Instance.Id, target, ct => OpenAdminAsync(context, "postgres", ct, CheckApplicationName), ProbeOnAsync, cancellationToken);
    }

    /// <summary>
    /// Asks the server for a new session and stops at its first answer, as libpq's <c>PQping</c> (<c>pg_isready</c>)
    /// does: a request to authenticate means the postmaster accepted the connection and started a backend for it; an
    /// error message (too many clients, starting up, shutting down) is thrown with its SQLSTATE; no answer is the
    /// caller's timeout. Written here because Npgsql has no ping and starting <c>pg_isready</c> costs a process per
    /// check. The backend sees the client end the stream during authentication and exits without logging.
    /// </summary>
    internal static async Task PingAsync(string host, int port, string user, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(host, port, cancellationToken);
        var parameters = Encoding.UTF8.GetBytes($"user\0{user}\0database\0postgres\0application_name\0{CheckApplicationName}\0\0");
        var startup = new byte[8 + parameters.Length];
        BinaryPrimitives.WriteInt32BigEndian(startup, startup.Length);
        BinaryPrimitives.WriteInt32BigEndian(startup.AsSpan(4), 3 << 16); // protocol 3.0
        parameters.CopyTo(startup, 8);
        await socket.SendAsync(startup, SocketFlags.None, cancellationToken);

        var header = new byte[5];
        await ReceiveExactlyAsync(socket, header, cancellationToken);
        var length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
        if (length is < 4 or > 65536)
        {
            throw new InvalidOperationException($"the server answered a new connection with a message of {length} bytes, not PostgreSQL's");
        }

        // Read whole, so the close is an orderly end of the stream (an unread byte would make it a reset, which the
        // server logs as "could not receive data from client").
        var body = new byte[length - 4];
        await ReceiveExactlyAsync(socket, body, cancellationToken);
        switch ((char)header[0])
        {
            case 'R':
                socket.Shutdown(SocketShutdown.Send);
                return;
            case 'E':
                string? code = null, message = null;
                foreach (var field in Encoding.UTF8.GetString(body).Split('\0', StringSplitOptions.RemoveEmptyEntries))
                {
                    (code, message) = field[0] switch
                    {
                        'C' => (field[1..], message),
                        'M' => (code, field[1..]),
                        _ => (code, message),
                    };
                }

                throw new InvalidOperationException($"the server refuses new connections: {message ?? "no message"} (SQLSTATE {code ?? "none"})");
            default:
                throw new InvalidOperationException($"the server answered a new connection with message type '{(char)header[0]}', not PostgreSQL's authentication request");
        }
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
            if (n == 0)
            {
                throw new InvalidOperationException("the server closed a new connection without answering");
            }

            read += n;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the instance's held check session when there is one, taken out while in use, or
    /// else on a new connection closed afterwards: for readers that ask as often as the check, like the WAL monitor (every
    /// 10 s). A held session that fails is closed, and the work is done again on a new connection, which decides.
    /// </summary>
    public async Task<T> OnCheckSessionAsync<T>(EngineContext context, Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        using var turn = await SessionTurnAsync(context.Instance.Id, cancellationToken);
        var target = Target(context);
        if (await _checkConnections.TakeAsync(context.Instance.Id, target, anyAge: true) is var (held, openedAt))
        {
            var passed = false;
            try
            {
                var result = await work(held, cancellationToken);
                passed = true;
                return result;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Falls through to a new connection.
            }
            finally
            {
                if (passed)
                {
                    await _checkConnections.HoldAsync(context.Instance.Id, target, held, openedAt);
                }
                else
                {
                    await held.DisposeAsync();
                }
            }
        }

        await using var connection = await OpenAdminAsync(context, "postgres", cancellationToken);
        return await work(connection, cancellationToken);
    }

    private static string Target(EngineContext context) => $"{context.Host}:{context.Port}/{context.Instance.AdminUser}";

    /// <summary>
    /// The held session serves one caller at a time (the check, the WAL monitor): the second waits its turn (a few
    /// milliseconds) instead of opening an admin session of its own, which would take one more of the server's few
    /// reserved slots and another SCRAM exchange (CheckConnectionTests saw it when the two met). One semaphore per
    /// instance checked, dropped by the sweep once the instance has no held session.
    /// </summary>
    private async Task<SemaphoreTurn> SessionTurnAsync(string instanceId, CancellationToken cancellationToken)
    {
        var gate = _checkSessionTurns.GetOrAdd(instanceId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new SemaphoreTurn(gate);
    }

    private readonly struct SemaphoreTurn(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }

    /// <summary>
    /// Closes, at most once a minute, the connections no check used for two reconnect intervals (those of instances
    /// deleted, stopped or no longer supervised by this broker), and the turns of instances no longer checked.
    /// </summary>
    private async Task SweepCheckConnectionsAsync()
    {
        if (!await _checkConnections.SweepAsync())
        {
            return;
        }

        // Turns of instances no longer checked (deprovisioned, moved): no held session and nobody in a turn. A caller
        // that took the gate just before it goes makes a new one; at worst it opens a connection of its own, once.
        foreach (var turn in _checkSessionTurns)
        {
            if (!_checkConnections.Holds(turn.Key) && turn.Value.CurrentCount == 1)
            {
                _checkSessionTurns.TryRemove(turn);
            }
        }
    }
}
