using Steward.Backup.Pipeline;

namespace Steward.Backup.Unpack;

/// <summary>Registration of the in-process tar unpacking sink.</summary>
public static class UnpackBuilderExtensions
{
    /// <summary>Restores a tar stream by unpacking it into <paramref name="directory"/>, which must exist and be empty.</summary>
    public static RestorePipelineBuilder UseTarUnpackSink(this RestorePipelineBuilder builder, string directory) =>
        builder.UseSink(new TarUnpackSink(directory));
}
