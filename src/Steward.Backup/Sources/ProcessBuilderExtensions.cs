using Steward.Backup.Pipeline;

namespace Steward.Backup.Sources;

/// <summary>Registers process sources and sinks.</summary>
public static class ProcessBuilderExtensions
{
    /// <summary>Uses a command's stdout as the backup source.</summary>
    public static BackupPipelineBuilder UseProcessSource(this BackupPipelineBuilder builder, ProcessCommand command) =>
        builder.UseSource(new ProcessSource(command));

    /// <summary>Streams the restored plaintext into a command's stdin.</summary>
    public static RestorePipelineBuilder UseProcessSink(this RestorePipelineBuilder builder, ProcessCommand command) =>
        builder.UseSink(new ProcessSink(command));
}
