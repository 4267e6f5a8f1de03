namespace Steward.Backup.Filters.Age;

/// <summary>One recipient stanza of an age header: <c>-> type args...</c> followed by its body.</summary>
internal sealed record AgeStanza(string Type, IReadOnlyList<string> Arguments, byte[] Body);
