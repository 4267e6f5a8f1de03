using System.Text.Encodings.Web;
using System.Text.Json;

namespace Steward.Server.Logging;

/// <summary>
/// The broker's console log (<see cref="LoggingOptions"/>): one line per message as text (the default) or, as json,
/// one JSON object per line with the timestamp, level, category, event id, message and the message's named
/// values, for log shippers.
/// </summary>
internal static class ConsoleLogging
{
    public static ILoggingBuilder AddStewardConsole(this ILoggingBuilder logging, string? format)
    {
        logging.ClearProviders();
        switch (format)
        {
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
                // "text"; any other value was refused with the other settings before anything logs.
                logging.AddSimpleConsole(c =>
                {
                    c.SingleLine = true;
                    c.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                    c.UseUtcTimestamp = true;
                });
                break;
        }

        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        // The dashboard's session keys are kept like the broker's other keys: files of the data directory, only
        // the broker's to read (docs/observability.md); the warning that they are not encrypted at rest would
        // otherwise open every start's log.
        logging.AddFilter("Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager", LogLevel.Error);
        return logging;
    }
}
