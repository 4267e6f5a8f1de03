using System.ComponentModel.DataAnnotations;
using Steward.Server.Configuration;

namespace Steward.Server.Logging;

/// <summary>How the broker writes its console log.</summary>
[SettingsSection("Logging")]
internal sealed record LoggingOptions
{
    [Setting("STEWARD_LOG_FORMAT", "console log: one text line per message, or one JSON object per line (timestamp, level, category, event id, message, named values) for log shippers")]
    [AllowedValues("text", "json")]
    public string Format { get; init; } = "text";
}
