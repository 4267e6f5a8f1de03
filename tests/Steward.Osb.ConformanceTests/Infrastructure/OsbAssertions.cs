using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Infrastructure;

/// <summary>Assertions on the shape of OSB replies.</summary>
public static partial class OsbAssertions
{
    /// <summary>
    /// The status, and the OSB error object: <c>error</c> a single CamelCase word (the spec's name when
    /// <paramref name="error"/> is given) and a non-empty <c>description</c>.
    /// </summary>
    public static Reply ShouldBeOsbError(this Reply reply, HttpStatusCode status, string? error = null)
    {
        reply.Status.ShouldBe(status, reply.ToString());
        reply.Body.ValueKind.ShouldBe(JsonValueKind.Object, $"an OSB error body is a JSON object: {reply}");
        reply.Str("description").ShouldNotBeNullOrWhiteSpace($"an OSB error body has a description: {reply}");
        var code = reply.Error.ShouldNotBeNull($"an OSB error body has an error code: {reply}");
        CamelCaseWord().IsMatch(code).ShouldBeTrue($"the error code is a single CamelCase word: {reply}");
        if (error is not null)
        {
            code.ShouldBe(error, reply.ToString());
        }

        return reply;
    }

    /// <summary>An error whose description names <paramref name="word"/> (a parameter, a field).</summary>
    public static Reply ShouldBeOsbErrorNaming(this Reply reply, HttpStatusCode status, string word)
    {
        reply.ShouldBeOsbError(status);
        reply.Str("description")!.ShouldContain(word, Case.Sensitive, reply.ToString());
        return reply;
    }

    /// <summary>The status with the body <c>{}</c>.</summary>
    public static Reply ShouldBeEmptyObject(this Reply reply, HttpStatusCode status)
    {
        reply.Status.ShouldBe(status, reply.ToString());
        reply.Body.ValueKind.ShouldBe(JsonValueKind.Object, reply.ToString());
        reply.Body.EnumerateObject().ShouldBeEmpty(reply.ToString());
        return reply;
    }

    /// <summary>A 202 carrying a non-empty operation id; returns it.</summary>
    public static string ShouldBeAccepted(this Reply reply)
    {
        reply.Status.ShouldBe(HttpStatusCode.Accepted, reply.ToString());
        var operation = reply.Str("operation").ShouldNotBeNull(reply.ToString());
        operation.ShouldNotBeNullOrWhiteSpace(reply.ToString());
        return operation;
    }

    [GeneratedRegex("^[A-Z][A-Za-z0-9]*$")]
    private static partial Regex CamelCaseWord();
}
