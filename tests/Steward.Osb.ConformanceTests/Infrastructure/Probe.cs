using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Infrastructure;

/// <summary>
/// A request sent while an operation may still run. <see cref="During"/>: last_operation still said
/// "in progress" after the reply, so the request provably arrived during the operation. <see cref="After"/>:
/// the operation had already ended before the request was sent.
/// </summary>
public sealed record Probe(Reply Reply, bool During, bool After)
{
    public static async Task<Probe> SendAsync(OsbClient osb, string instanceId, string operation, Func<Task<Reply>> request)
    {
        var before = await osb.LastOperationAsync(instanceId, operation);
        var reply = await request();
        var after = await osb.LastOperationAsync(instanceId, operation);
        return new Probe(reply, after.Str("state") == "in progress", before.Str("state") != "in progress");
    }
}
