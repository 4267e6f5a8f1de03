using System.Text.Encodings.Web;
using System.Text.Json;

namespace Steward.Server.Logging;

/// <summary>
/// The broker's console log: one line per message as text (the default) or, with STEWARD_LOG_FORMAT=json,
/// one JSON object per line with the timestamp, level, category, event id, message and the message's named
/// values, for log shippers.
/// </summary>
internal static class ConsoleLogging
{
    public static ILoggingBuilder AddStewardConsole(this ILoggingBuilder logging, string? format)
    {
        logging.ClearProviders();
        switch (format?.Trim().ToLowerInvariant())
        {
            case null or "" or "text":
                logging.AddSimpleConsole(c =>
                {
                    c.SingleLine = true;
                    c.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                    c.UseUtcTimestamp = true;
                });
                break;
            case "json":
                logging.AddJsonConsole(c =>
                {
                    c.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                    c.UseUtcTimestamp = true;
                    c.IncludeScopes = false;
                    c.JsonWriterOptions = new JsonWriterOptions { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
                });
                break;
            default:
                throw new ArgumentException($"STEWARD_LOG_FORMAT '{format}' is not 'text' or 'json'");
        }

        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        return logging;
    }
}
