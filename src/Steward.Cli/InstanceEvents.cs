using System.Net;
using System.Net.ServerSentEvents;
using System.Threading.Channels;

namespace Steward.Cli;

/// <summary>
/// Follows an instance's server-sent event stream so waiting commands re-read state when something happens
/// instead of polling on a timer. When the broker has no stream for it (an older broker, or the instance is
/// gone), <see cref="NextAsync"/> falls back to a short poll interval.
/// </summary>
internal sealed class InstanceEvents : IAsyncDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(300);

    // With a live stream a re-read still happens now and then, in case an event was dropped.
    private static readonly TimeSpan SafetyNet = TimeSpan.FromSeconds(5);

    private readonly Channel<string> _events = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private Task _reader = Task.CompletedTask;
    private volatile bool _live;

    public static InstanceEvents Open(StewardClient client, string instanceId, CancellationToken cancellationToken)
    {
        var events = new InstanceEvents();
        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, events._stop.Token);
        events._reader = events.ReadAsync(client, instanceId, linked.Token).ContinueWith(_ => linked.Dispose(), TaskScheduler.Default);
        return events;
    }

    /// <summary>Completes when the next event arrives (all queued events are consumed together) or the fallback interval passes.</summary>
    public async Task NextAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_live ? SafetyNet : Poll);
        try
        {
            await _events.Reader.ReadAsync(timeout.Token);
            while (_events.Reader.TryRead(out _))
            {
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
        catch (ChannelClosedException)
        {
            await Task.Delay(Poll, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reader;
        _stop.Dispose();
    }

    private async Task ReadAsync(StewardClient client, string instanceId, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.OpenStreamAsync($"/api/v1/instances/{Uri.EscapeDataString(instanceId)}/events", cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return;
            }

            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken))
            {
                if (item.EventType == "ready")
                {
                    _live = true;
                    continue;
                }

                _events.Writer.TryWrite(item.EventType);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or IOException)
        {
            // Falls back to polling.
        }
        finally
        {
            _live = false;
        }
    }
}
