using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace Steward.Server.Tests.HighAvailability;

/// <summary>
/// A client writing numbered rows through one connection string as fast as it can, reconnecting after any
/// error. An id goes into <see cref="Acknowledged"/> only once its COMMIT returned: the client's log of
/// acknowledged writes that must all survive a failover.
/// </summary>
public sealed class WriteLoad : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _next;

    private WriteLoad(string connectionString)
    {
        _connectionString = connectionString;
        _loop = Task.Run(LoopAsync);
    }

    public ConcurrentQueue<long> Acknowledged { get; } = new();

    public ConcurrentQueue<(TimeSpan At, long Id)> Timeline { get; } = new();

    /// <summary>When each write was sent (a write acknowledged just after a fault may have been sent before it).</summary>
    public ConcurrentQueue<(TimeSpan At, long Id)> Sent { get; } = new();

    public int Errors;

    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public static Task<WriteLoad> StartAsync(string uri) => StartWithAsync(ToConnectionString(uri));

    /// <summary>The same load over an Npgsql connection string (a multi-host one, for example).</summary>
    public static async Task<WriteLoad> StartWithAsync(string connectionString, int commandTimeoutSeconds = 10)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 3, CommandTimeout = commandTimeoutSeconds };
        await using (var conn = new NpgsqlConnection(csb.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS writes (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        return new WriteLoad(csb.ConnectionString);
    }

    /// <summary>postgresql://user:password@host:port/db → a Npgsql connection string.</summary>
    public static string ToConnectionString(string uri)
    {
        var u = new Uri(uri);
        var user = Uri.UnescapeDataString(u.UserInfo.Split(':')[0]);
        var password = Uri.UnescapeDataString(u.UserInfo.Split(':', 2)[1]);
        return new NpgsqlConnectionStringBuilder { Host = u.Host, Port = u.Port, Username = user, Password = password, Database = u.AbsolutePath.TrimStart('/') }.ConnectionString;
    }

    /// <summary>Waits until at least <paramref name="more"/> writes were acknowledged after this call.</summary>
    public async Task WaitForMoreAsync(int more, TimeSpan within)
    {
        var target = Acknowledged.Count + more;
        var clock = Stopwatch.StartNew();
        while (Acknowledged.Count < target)
        {
            if (clock.Elapsed > within)
            {
                throw new TimeoutException($"only {Acknowledged.Count} of {target} writes acknowledged within {within.TotalSeconds} s ({Errors} errors)");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Npgsql's operations are not cancelled through the token (a cancel request to a dead server can throw
        // from the callback); the loop sees the flag after at most one command timeout.
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        NpgsqlConnection? conn = null;
        while (!_stop.IsCancellationRequested)
        {
            var id = Interlocked.Increment(ref _next);
            Sent.Enqueue((Clock.Elapsed, id));
            try
            {
                if (conn is null)
                {
                    conn = new NpgsqlConnection(_connectionString);
                    await conn.OpenAsync(CancellationToken.None);
                }

                await using var cmd = new NpgsqlCommand("INSERT INTO writes (id) VALUES ($1)", conn);
                cmd.Parameters.AddWithValue(id);
                await cmd.ExecuteNonQueryAsync(CancellationToken.None);
                Acknowledged.Enqueue(id);
                Timeline.Enqueue((Clock.Elapsed, id));
            }
            catch (Exception) when (!_stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref Errors);
                if (conn is not null)
                {
                    await conn.DisposeAsync();
                    conn = null;
                }

                await Task.Delay(20);
            }
            catch (Exception)
            {
                break; // stopping
            }
        }

        if (conn is not null)
        {
            await conn.DisposeAsync();
        }
    }
}
