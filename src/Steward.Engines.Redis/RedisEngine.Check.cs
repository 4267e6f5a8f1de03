using Steward.Engines.Redis.Resp;

namespace Steward.Engines.Redis;

/// <summary>
/// The supervisor's recurring check keeps one authenticated connection per instance between checks. A new connection,
/// <c>AUTH</c>, <c>PING</c> and <c>ROLE</c> every 5 s for each of 500 instances was 13 % of an idle broker's CPU
/// (docs/benchmarks.md, density). The held connection proves what a check proves (the server answers <c>PING</c> and
/// names its role, within the check's timeout, so a server that stops answering still fails at once); what only a new
/// connection proves (the server accepts one: it runs, is not at <c>maxclients</c>; the admin password still opens it)
/// is proven again at least every <see cref="RedisEngineOptions.CheckReconnectInterval"/>. A held connection that fails
/// (the server restarted, someone killed the client) fails no check by itself: the check is made again at once on a new
/// connection, which decides.
/// </summary>
public sealed partial class RedisEngine
{
    public async Task CheckAsync(EngineContext context, CancellationToken cancellationToken)
    {
        if (!_checkConnections.Enabled)
        {
            await ProbeAsync(context, cancellationToken);
            return;
        }

        await _checkConnections.SweepAsync();
        var target = $"{context.Host}:{context.Port}/{context.Instance.AdminUser}";
        if (await _checkConnections.TakeProvenAsync(context.Instance.Id, target, ProbeOnAsync, cancellationToken) is var (held, openedAt))
        {
            await _checkConnections.HoldAsync(context.Instance.Id, target, held, openedAt);
            return;
        }

        await _checkConnections.OpenAsync(context.Instance.Id, target, ct => AdminAsync(context, ct), ProbeOnAsync, cancellationToken);
    }

    private static async Task ProbeOnAsync(RespConnection conn, CancellationToken cancellationToken)
    {
        var reply = await conn.ExecuteAsync(["PING"], cancellationToken);
        if (reply.AsText() != "PONG")
        {
            throw new RespException("PING was not answered with PONG");
        }

        if (await conn.ExecuteAsync(["ROLE"], cancellationToken) is not RespValue.Array { Items: [var role, ..] } || role.AsText() is not ("master" or "slave"))
        {
            throw new RespException("ROLE did not name a master or replica role");
        }
    }
}
