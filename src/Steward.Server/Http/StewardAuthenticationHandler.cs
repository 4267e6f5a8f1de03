using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Steward.Errors;
using Steward.Security;
using Steward.Server.Configuration;
using Steward.State;

namespace Steward.Server.Http;

/// <summary>
/// Authenticates the broker's credentials (HTTP basic) and binding API tokens (Bearer); answers refusals
/// with OSB error bodies: 401 with a Basic challenge, 403 for an instance token on a broker-only endpoint.
/// </summary>
internal sealed class StewardAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggers,
    UrlEncoder encoder,
    BrokerCredentials credentials,
    IStateStore store)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggers, encoder)
{
    private const string BasicRequired = "valid broker credentials are required (HTTP basic authentication)";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return AuthenticateResult.NoResult();
        }

        if (!AuthenticationHeaderValue.TryParse(header, out var auth) || auth.Parameter is not { Length: > 0 } parameter)
        {
            return AuthenticateResult.Fail(BasicRequired);
        }

        if (string.Equals(auth.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            return BasicMatches(parameter)
                ? Success(new Claim(ClaimTypes.Role, StewardAuthentication.BrokerRole))
                : AuthenticateResult.Fail(BasicRequired);
        }

        if (string.Equals(auth.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase))
        {
            var binding = await store.FindBindingByTokenHashAsync(Secrets.TokenHash(parameter.Trim()), Context.RequestAborted);
            return binding is null
                ? AuthenticateResult.Fail("the instance API token is not valid (unknown, or its binding was removed)")
                : Success(new Claim(StewardAuthentication.InstanceClaim, binding.InstanceId));
        }

        return AuthenticateResult.Fail(BasicRequired);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.Headers.WWWAuthenticate = "Basic realm=\"steward\"";
        await OsbErrorBody.From(new StewardException(ErrorCode.Unauthorized, result.Failure?.Message ?? BasicRequired)).ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        OsbErrorBody.From(new StewardException(ErrorCode.Forbidden, "this endpoint needs the broker's credentials; an instance token reaches its own instance only")).ExecuteAsync(Context);

    private bool BasicMatches(string encoded)
    {
        try
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 && credentials.Matches(pair[..colon], pair[(colon + 1)..]);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private AuthenticateResult Success(Claim claim) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([claim], Scheme.Name)), Scheme.Name));
}
