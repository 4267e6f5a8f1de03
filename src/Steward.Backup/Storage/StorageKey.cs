using System.Text.RegularExpressions;

namespace Steward.Backup.Storage;

/// <summary>
/// Validates storage keys: <c>/</c>-separated segments of letters, digits, <c>.</c>, <c>_</c>, <c>-</c>; no segment
/// starts with a dot (which rules out <c>..</c> and hides temporary files), no leading <c>/</c>, no empty segment.
/// </summary>
public static partial class StorageKey
{
    /// <summary>Maximum key length in characters.</summary>
    public const int MaxLength = 512;

    /// <summary>Whether <paramref name="key"/> is a valid key.</summary>
    public static bool IsValid(string? key) =>
        key is { Length: > 0 and <= MaxLength } && KeyPattern().IsMatch(key);

    /// <summary>Throws <see cref="ArgumentException"/> for an invalid key.</summary>
    public static string Validate(string? key) => IsValid(key)
        ? key!
        : throw new ArgumentException(
            $"'{key}' is not a valid storage key: use '/'-separated segments of [A-Za-z0-9._-] that do not start with '.'.",
            nameof(key));

    /// <summary>Whether <paramref name="prefix"/> is usable for listing (empty, or a key prefix without tricks).</summary>
    internal static string ValidatePrefix(string prefix) =>
        prefix.Length == 0 || IsValid(prefix.TrimEnd('/')) ? prefix : throw new ArgumentException($"'{prefix}' is not a valid key prefix.", nameof(prefix));

    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();
}
