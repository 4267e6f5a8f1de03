using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace Steward.Server.Dashboard;

/// <summary>Server-rendered HTML: every value is encoded, the layout loads only Steward's own script and style.</summary>
internal static class Html
{
    /// <summary>No inline script or style, nothing from elsewhere, no framing, forms post only to Steward.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static string E(string? value) => HtmlEncoder.Default.Encode(value ?? string.Empty);

    public static string E(FormattableString value) => E(value.ToString(CultureInfo.InvariantCulture));

    public static void SecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.CacheControl = "no-store";
    }

    public static IResult Page(string title, string body, int status = StatusCodes.Status200OK, string? instanceId = null)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        html.Append("<title>").Append(E(title)).Append(" · Steward</title>");
        html.Append("<link rel=\"stylesheet\" href=\"/dashboard/assets/dashboard.css\">");
        html.Append("<script src=\"/dashboard/assets/dashboard.js\" defer></script></head>");
        html.Append("<body").Append(instanceId is null ? string.Empty : $" data-instance=\"{E(instanceId)}\"").Append('>');
        html.Append("<header><a class=\"brand\" href=\"/dashboard\">Steward</a></header><main>").Append(body).Append("</main></body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    public static string Bytes(long n) => n switch
    {
        >= 1L << 30 => (n / (double)(1L << 30)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (n / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (n / (double)(1L << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => n.ToString(CultureInfo.InvariantCulture) + " B",
    };

    /// <summary>A machine-readable time element; the script shows it in the reader's local time.</summary>
    public static string Time(DateTimeOffset? at) => at is { } t
        ? $"<time datetime=\"{t.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}\">{t.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC</time>"
        : "–";

    public static string Seconds(double? seconds) => seconds is { } s ? s.ToString(s < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " s" : "–";
}
