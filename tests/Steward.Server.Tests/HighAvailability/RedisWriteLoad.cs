using System.Collections.Concurrent;
using System.Diagnostics;
using Steward.Engines.Redis.Resp;

namespace Steward.Server.Tests.HighAvailability;

/// <summary>
/// A client adding numbered members to one Redis set through the stable endpoint as fast as it can, reconnecting
/// after any error. An id goes into <see cref="Acknowledged"/> once SADD returned; every tenth write is also
/// followed by <c>WAIT 1</c>, and goes into <see cref="Replicated"/> when a replica confirmed it.
/// </summary>
public sealed class RedisWriteLoad : IAsyncDisposable
{
    public const string Key = "writes";

    private readonly string _user;
    private readonly string _password;
    private readonly int _port;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _next;

    private RedisWriteLoad(int port, string user, string password)
    {
        (_port, _user, _password) = (port, user, password);
        _loop = Task.Run(LoopAsync);
    }

    public ConcurrentQueue<long> Acknowledged { get; } = new();

    public ConcurrentQueue<long> Replicated { get; } = new();

    public ConcurrentQueue<(TimeSpan At, long Id)> Timeline { get; } = new();

    /// <summary>When each write was sent (a write acknowledged just after a fault may have been sent before it).</summary>
    public ConcurrentQueue<(TimeSpan At, long Id)> Sent { get; } = new();

    public ConcurrentQueue<string> ErrorMessages { get; } = new();

    public int Errors;

    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public static RedisWriteLoad Start(int port, string user, string password) => new(port, user, password);

    public async Task WaitForMoreAsync(int more, TimeSpan within)
    {
        var target = Acknowledged.Count + more;
        var clock = Stopwatch.StartNew();
        while (Acknowledged.Count < target)
        {
            if (clock.Elapsed > within)
            {
                throw new TimeoutException($"only {Acknowledged.Count} of {target} writes acknowledged within {within.TotalSeconds} s ({Errors} errors, last: {ErrorMessages.LastOrDefault()})");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        RespConnection? conn = null;
        while (!_stop.IsCancellationRequested)
        {
            var id = Interlocked.Increment(ref _next);
            Sent.Enqueue((Clock.Elapsed, id));
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                conn ??= await RespConnection.ConnectAsync("127.0.0.1", _port, _user, _password, timeout.Token);
                await conn.ExecuteAsync(["SADD", Key, id.ToString(System.Globalization.CultureInfo.InvariantCulture)], timeout.Token);
                Acknowledged.Enqueue(id);
                Timeline.Enqueue((Clock.Elapsed, id));
                if (id % 10 == 0 && (await conn.ExecuteAsync(["WAIT", "1", "2000"], timeout.Token)) is RespValue.Integer { Value: >= 1 })
                {
                    Replicated.Enqueue(id);
                }
            }
            catch (Exception ex) when (!_stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref Errors);
                ErrorMessages.Enqueue(ex.Message);
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
