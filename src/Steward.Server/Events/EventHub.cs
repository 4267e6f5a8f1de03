using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Steward.Server.Events;

/// <summary>
/// The per-instance event streams: the latest events of each instance are kept in memory so a client that
/// (re)connects first gets what it missed, then everything new as it happens. A slow subscriber loses its
/// oldest undelivered events rather than slowing the broker down.
/// </summary>
internal sealed class EventHub
{
    /// <summary>Events kept per instance for clients that connect late or reconnect.</summary>
    public const int Kept = 256;

    private const int SubscriberBuffer = 1024;
    private readonly ConcurrentDictionary<string, Stream> _streams = new();
    private readonly TimeProvider _time;
    private long _next;

    public EventHub(TimeProvider time)
    {
        _time = time;
        _next = time.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
    }

    public InstanceEvent Publish(string instanceId, string type, object data)
    {
        var stream = _streams.GetOrAdd(instanceId, _ => new Stream());
        lock (stream)
        {
            var e = new InstanceEvent(Interlocked.Increment(ref _next), instanceId, type, _time.GetUtcNow(), data);
            stream.Recent.Enqueue(e);
            if (stream.Recent.Count > Kept)
            {
                stream.Recent.Dequeue();
            }

            foreach (var subscriber in stream.Subscribers)
            {
                subscriber.Writer.TryWrite(e);
            }

            return e;
        }
    }

    /// <summary>The kept events of an instance, oldest first, optionally of one type.</summary>
    public IReadOnlyList<InstanceEvent> Recent(string instanceId, string? type = null)
    {
        if (!_streams.TryGetValue(instanceId, out var stream))
        {
            return [];
        }

        lock (stream)
        {
            return stream.Recent.Where(e => type is null || e.Type == type).ToList();
        }
    }

    /// <summary>Kept events after <paramref name="afterId"/>, then every new one until disposed.</summary>
    public Subscription Subscribe(string instanceId, long afterId)
    {
        var stream = _streams.GetOrAdd(instanceId, _ => new Stream());
        var channel = Channel.CreateBounded<InstanceEvent>(new BoundedChannelOptions(SubscriberBuffer) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (stream)
        {
            var backlog = stream.Recent.Where(e => e.Id > afterId).ToList();
            stream.Subscribers.Add(channel);
            return new Subscription(backlog, channel.Reader, () =>
            {
                lock (stream)
                {
                    stream.Subscribers.Remove(channel);
                }
            });
        }
    }

    /// <summary>An instance is gone: its kept events are dropped and its subscribers' streams end.</summary>
    public void Forget(string instanceId)
    {
        if (_streams.TryRemove(instanceId, out var stream))
        {
            lock (stream)
            {
                foreach (var subscriber in stream.Subscribers)
                {
                    subscriber.Writer.TryComplete();
                }
            }
        }
    }

    public sealed class Subscription(IReadOnlyList<InstanceEvent> backlog, ChannelReader<InstanceEvent> reader, Action unsubscribe) : IDisposable
    {
        public IReadOnlyList<InstanceEvent> Backlog { get; } = backlog;

        public ChannelReader<InstanceEvent> Reader { get; } = reader;

        public void Dispose() => unsubscribe();
    }

    private sealed class Stream
    {
        public Queue<InstanceEvent> Recent { get; } = new();

        public List<Channel<InstanceEvent>> Subscribers { get; } = [];
    }
}
