namespace Steward.Backup.Manifest;

/// <summary>One filter of a recorded chain.</summary>
/// <param name="Name">Registry name of the filter (for example <c>zstd</c>).</param>
/// <param name="Parameters">Its parameters; never key material.</param>
public sealed record FilterSpec(string Name, IReadOnlyDictionary<string, string> Parameters);
