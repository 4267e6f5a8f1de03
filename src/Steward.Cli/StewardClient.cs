using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Steward.Cli;

/// <summary>The CLI's HTTP client for the broker's OSB and /api/v1 endpoints.</summary>
internal sealed class StewardClient(BrokerConnection connection) : IDisposable
{
    /// <summary>A field without a value is left out: the broker refuses <c>"field": null</c>.</summary>
    private static readonly JsonSerializerOptions RequestJson = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    private readonly HttpClient _http = new() { BaseAddress = connection.Url, Timeout = TimeSpan.FromSeconds(120) };

    // Event streams stay open as long as a command waits.
    private readonly HttpClient _streams = new() { BaseAddress = connection.Url, Timeout = Timeout.InfiniteTimeSpan };

    public Uri Url => connection.Url;

    /// <summary>Sends a request; returns status and body, mapping transport and auth failures to <see cref="CliException"/>.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = Authorization();
        request.Headers.Add("X-Broker-API-Version", "2.17");
        request.Headers.Add("X-Broker-API-Originating-Identity", "steward-cli " + Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { user = Environment.UserName }))));
        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body, RequestJson), Encoding.UTF8, "application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException(ExitCodes.Unreachable, $"cannot reach the broker at {connection.Url}: {ex.Message}");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                throw new CliException(ExitCodes.Unreachable, connection.Token is null ? $"the broker at {connection.Url} refused the credentials of '{connection.Username}'" : $"the broker at {connection.Url} refused the instance token");
            }

            return (response.StatusCode, json);
        }
    }

    /// <summary>A GET whose response body is read as it arrives (an event stream); the caller disposes the response.</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = Authorization();
        request.Headers.Accept.ParseAdd("text/event-stream");
        return await _streams.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>Like <see cref="SendAsync"/>, but any status other than <paramref name="accepted"/> becomes a <see cref="CliException"/>.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> ExpectAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken, params HttpStatusCode[] accepted)
    {
        var (status, json) = await SendAsync(method, path, body, cancellationToken);
        if (accepted.Contains(status))
        {
            return (status, json);
        }

        var description = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("description", out var d) ? d.GetString() : null;
        var error = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("error", out var e) ? e.GetString() : null;
        var code = status is HttpStatusCode.NotFound or HttpStatusCode.Gone ? ExitCodes.NotFound : ExitCodes.Failed;
        throw new CliException(code, $"{(int)status} {error ?? status.ToString()}: {description ?? "(no description)"}");
    }

    /// <summary>Resolves a service and plan given by name or id against the catalog.</summary>
    public async Task<(string ServiceId, string PlanId, string ServiceName, string PlanName)> ResolvePlanAsync(string service, string plan, CancellationToken cancellationToken)
    {
        var (_, catalog) = await ExpectAsync(HttpMethod.Get, "/v2/catalog", null, cancellationToken, HttpStatusCode.OK);
        foreach (var s in catalog.GetProperty("services").EnumerateArray())
        {
            if (s.GetProperty("name").GetString() != service && s.GetProperty("id").GetString() != service)
            {
                continue;
            }

            foreach (var p in s.GetProperty("plans").EnumerateArray())
            {
                if (p.GetProperty("name").GetString() == plan || p.GetProperty("id").GetString() == plan)
                {
                    return (s.GetProperty("id").GetString()!, p.GetProperty("id").GetString()!, s.GetProperty("name").GetString()!, p.GetProperty("name").GetString()!);
                }
            }

            var plans = string.Join(", ", s.GetProperty("plans").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
            throw new CliException(ExitCodes.Usage, $"service '{service}' has no plan '{plan}' (plans: {plans})");
        }

        var services = string.Join(", ", catalog.GetProperty("services").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        throw new CliException(ExitCodes.Usage, $"no service '{service}' (services: {services})");
    }

    /// <summary>An instance as Steward's own API describes it.</summary>
    public async Task<JsonElement> InstanceAsync(string id, CancellationToken cancellationToken) =>
        (await ExpectAsync(HttpMethod.Get, $"/api/v1/instances/{Uri.EscapeDataString(id)}", null, cancellationToken, HttpStatusCode.OK)).Body;

    public void Dispose()
    {
        _http.Dispose();
        _streams.Dispose();
    }

    private AuthenticationHeaderValue Authorization() => connection.Token is { } token
        ? new AuthenticationHeaderValue("Bearer", token)
        : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{connection.Username}:{connection.Password}")));
}
