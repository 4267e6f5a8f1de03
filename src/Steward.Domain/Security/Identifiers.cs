namespace Steward.Security;

/// <summary>
/// Validates identifiers that arrive from clients (instance and binding ids). The OSB spec treats them as
/// opaque strings; Steward accepts the characters GUIDs and platform ids use and refuses anything that could
/// be a path, a shell word or a control character.
/// </summary>
public static class Identifiers
{
    /// <summary>Longest accepted identifier.</summary>
    public const int MaxLength = 128;

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

        if (id is "." or "..")
        {
            return "must not be '.' or '..'";
        }

        foreach (var c in id)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' or '.';
            if (!ok)
            {
                return "may contain only letters, digits, '-', '_' and '.'";
            }
        }

        return null;
    }
}
