using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Steward.Server.Tests.Infrastructure;

/// <summary>A small OSB client speaking to the broker under test the way a platform does.</summary>
public sealed class OsbClient(HttpClient http, string username, string password)
{
    public HttpClient Http => http;

    public async Task<Reply> SendAsync(HttpMethod method, string path, object? body = null, string? version = "2.17", bool authenticate = true, IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (authenticate)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));
        }

        if (version is not null)
        {
            request.Headers.Add("X-Broker-API-Version", version);
        }

        foreach (var (k, v) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(k, v);
        }

        if (body is not null)
        {
            // A field the caller has no value for is left out, as platforms do: the broker refuses "field": null.
            var json = body switch
            {
                string text => text,
                IDictionary<string, object?> fields => JsonSerializer.Serialize(fields.Where(f => f.Value is not null).ToDictionary()),
                _ => JsonSerializer.Serialize(body),
            };
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);
        return await Reply.ReadAsync(response);
    }

    public Task<Reply> ProvisionAsync(string id, string serviceId, string planId, object? parameters = null, bool acceptsIncomplete = true, IDictionary<string, string>? headers = null) =>
        SendAsync(HttpMethod.Put, $"/v2/service_instances/{id}{(acceptsIncomplete ? "?accepts_incomplete=true" : string.Empty)}", new Dictionary<string, object?>
        {
            ["service_id"] = serviceId,
            ["plan_id"] = planId,
            ["parameters"] = parameters,
            ["organization_guid"] = "org-1",
            ["space_guid"] = "space-1",
        }, headers: headers);

    public Task<Reply> UpdateAsync(string id, string serviceId, string? planId, object? parameters = null, bool acceptsIncomplete = true) =>
        SendAsync(HttpMethod.Patch, $"/v2/service_instances/{id}{(acceptsIncomplete ? "?accepts_incomplete=true" : string.Empty)}", new Dictionary<string, object?>
        {
            ["service_id"] = serviceId,
            ["plan_id"] = planId,
            ["parameters"] = parameters,
        });

    public Task<Reply> DeprovisionAsync(string id, string serviceId, string planId, bool acceptsIncomplete = true) =>
        SendAsync(HttpMethod.Delete, $"/v2/service_instances/{id}?service_id={serviceId}&plan_id={planId}{(acceptsIncomplete ? "&accepts_incomplete=true" : string.Empty)}");

    public Task<Reply> GetInstanceAsync(string id) => SendAsync(HttpMethod.Get, $"/v2/service_instances/{id}");

    public Task<Reply> LastOperationAsync(string id, string? operation = null) =>
        SendAsync(HttpMethod.Get, $"/v2/service_instances/{id}/last_operation{(operation is null ? string.Empty : "?operation=" + operation)}");

    public Task<Reply> BindAsync(string id, string bindingId, string serviceId, string planId, object? parameters = null) =>
        SendAsync(HttpMethod.Put, $"/v2/service_instances/{id}/service_bindings/{bindingId}", new Dictionary<string, object?>
        {
            ["service_id"] = serviceId,
            ["plan_id"] = planId,
            ["parameters"] = parameters,
            ["bind_resource"] = new { app_guid = "app-1" },
        });

    public Task<Reply> UnbindAsync(string id, string bindingId, string serviceId, string planId) =>
        SendAsync(HttpMethod.Delete, $"/v2/service_instances/{id}/service_bindings/{bindingId}?service_id={serviceId}&plan_id={planId}");

    public Task<Reply> GetBindingAsync(string id, string bindingId) => SendAsync(HttpMethod.Get, $"/v2/service_instances/{id}/service_bindings/{bindingId}");

    /// <summary>Polls last_operation until the operation ends; returns the final reply (200 with a state, or 410).</summary>
    public async Task<Reply> WaitAsync(string id, string? operation = null, int timeoutSeconds = 120)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var reply = await LastOperationAsync(id, operation);
            if (reply.Status != HttpStatusCode.OK || reply.Str("state") != "in progress")
            {
                return reply;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(timeoutSeconds))
            {
                throw new TimeoutException($"operation on {id} still in progress after {timeoutSeconds} s: {reply}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Provisions and waits; fails the test unless the instance ends up provisioned.</summary>
    public async Task ProvisionReadyAsync(string id, string serviceId, string planId, object? parameters = null)
    {
        var started = await ProvisionAsync(id, serviceId, planId, parameters);
        started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
        var done = await WaitAsync(id, started.Str("operation"));
        done.Str("state").ShouldBe("succeeded", done.ToString());
    }

    /// <summary>Deprovisions and waits until the instance is gone, so later listings no longer show it.</summary>
    public async Task DeprovisionGoneAsync(string id, string serviceId, string planId)
    {
        var started = await DeprovisionAsync(id, serviceId, planId);
        if (started.Status == HttpStatusCode.Accepted)
        {
            (await WaitAsync(id, started.Str("operation"))).Status.ShouldBe(HttpStatusCode.Gone);
        }
    }

    /// <summary>Binds and returns the credentials object.</summary>
    public async Task<JsonElement> BindReadyAsync(string id, string bindingId, string serviceId, string planId, object? parameters = null)
    {
        var reply = await BindAsync(id, bindingId, serviceId, planId, parameters);
        reply.Status.ShouldBe(HttpStatusCode.Created, reply.ToString());
        return reply.Body.GetProperty("credentials");
    }

    /// <summary>Steward's own API (/api/v1/...).</summary>
    public Task<Reply> ApiAsync(string path) => SendAsync(HttpMethod.Get, "/api/v1" + path, version: null);
}
