using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Steward.Security;

namespace Steward.Server.Dashboard;

/// <summary>
/// Short-lived, single-use login links for one instance's dashboard, made by <c>steward dashboard</c> with the
/// broker's credentials or the instance's token. Only their hashes are kept, in memory: a broker restart
/// invalidates unused links.
/// </summary>
internal sealed class LoginLinks(DashboardUrls urls, IOptions<DashboardOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, (string InstanceId, DateTimeOffset Expires)> _links = new();

    public (string Url, DateTimeOffset Expires) Create(string instanceId)
    {
        var now = time.GetUtcNow();
        foreach (var (hash, link) in _links)
        {
            if (link.Expires <= now)
            {
                _links.TryRemove(hash, out _);
            }
        }

        var ticket = Secrets.Token(32);
        var expires = now + options.Value.LinkLifetime;
        _links[Secrets.TokenHash(ticket)] = (instanceId, expires);
        return (urls.Login(ticket), expires);
    }

    /// <summary>The instance the ticket opens, once; null when unknown, used or expired.</summary>
    public string? Redeem(string ticket) =>
        _links.TryRemove(Secrets.TokenHash(ticket), out var link) && link.Expires > time.GetUtcNow() ? link.InstanceId : null;
}
