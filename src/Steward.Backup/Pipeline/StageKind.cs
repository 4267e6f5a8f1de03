namespace Steward.Backup.Pipeline;

/// <summary>What kind of stage a <see cref="PipelineFailure"/> happened in.</summary>
public enum StageKind
{
    /// <summary>The backup source (for example the dump process).</summary>
    Source,

    /// <summary>A filter (compression, encryption).</summary>
    Filter,

    /// <summary>The storage: writing, committing or reading the object or its manifest.</summary>
    Storage,

    /// <summary>The restore sink (for example <c>pg_restore</c>).</summary>
    Sink,

    /// <summary>The data did not match its recorded size or SHA-256 digest, or failed authentication.</summary>
    Integrity,

    /// <summary>The caller cancelled the run.</summary>
    Cancelled,
}
