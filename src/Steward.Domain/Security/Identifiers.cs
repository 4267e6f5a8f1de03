namespace Steward.Security;

/// <summary>
/// The one validation of identifiers that arrive from clients: instance, binding, backup, incident and
/// operation ids, on the OSB API, on Steward's own API and in the CLI. The OSB spec treats ids as opaque
/// strings; Steward accepts what GUIDs and platform ids use and refuses anything that would break one of
/// the places an id ends up in: a URL path segment, a storage key (<c>{instance}/{backup}</c>, where a
/// segment must not start with a dot), a file name, a shell word or a command-line argument.
/// </summary>
public static class Identifiers
{
    /// <summary>Longest accepted identifier.</summary>
    public const int MaxLength = 128;

    /// <summary>What an acceptable id looks like, for error messages and documentation.</summary>
    public const string Rule = "1 to 128 letters, digits, '-', '_' and '.', starting with a letter or digit, without '..'";

    /// <summary>Returns null when <paramref name="id"/> is acceptable, otherwise why it is not.</summary>
    public static string? Problem(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return "must not be empty";
        }

        if (id.Length > MaxLength)
        {
            return $"must be at most {MaxLength} characters";
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return "may contain only letters, digits, '-', '_' and '.'";
            }
        }

        // A leading '.' hides a file and is not a storage-key segment; a leading '-' reads as a command-line option.
        if (!char.IsAsciiLetterOrDigit(id[0]))
        {
            return "must start with a letter or a digit";
        }

        return id.Contains("..", StringComparison.Ordinal) ? "must not contain '..'" : null;
    }

    /// <summary>Whether <paramref name="id"/> is acceptable.</summary>
    public static bool IsValid(string? id) => Problem(id) is null;
}
