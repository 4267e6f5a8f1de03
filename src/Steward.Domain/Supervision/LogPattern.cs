namespace Steward.Supervision;

/// <summary>A server log phrase that establishes a failure class.</summary>
public sealed record LogPattern(FailureClass Class, string Phrase)
{
    /// <summary>
    /// The first pattern (in the order given: most specific cause first) found in the log, with the last
    /// line containing it as evidence.
    /// </summary>
    public static Diagnosis? Match(IReadOnlyList<LogPattern> patterns, IReadOnlyList<string> lines)
    {
        foreach (var pattern in patterns)
        {
            for (var i = lines.Count - 1; i >= 0; i--)
            {
                if (lines[i].Contains(pattern.Phrase, StringComparison.OrdinalIgnoreCase))
                {
                    return new Diagnosis(pattern.Class, lines[i].Trim());
                }
            }
        }

        return null;
    }
}
