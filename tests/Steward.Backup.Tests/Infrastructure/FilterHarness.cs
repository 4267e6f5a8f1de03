using System.IO.Pipelines;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Tests.Infrastructure;

/// <summary>Runs one filter over a byte array, outside a pipeline.</summary>
internal static class FilterHarness
{
    public static Task<byte[]> EncodeAsync(IBackupFilter filter, byte[] input) => RunAsync(filter.EncodeAsync, input);

    public static Task<byte[]> DecodeAsync(IBackupFilter filter, byte[] input) => RunAsync(filter.DecodeAsync, input);

    private static async Task<byte[]> RunAsync(Func<PipeReader, PipeWriter, CancellationToken, ValueTask> transform, byte[] input)
    {
        var reader = PipeReader.Create(new MemoryStream(input));
        using var output = new MemoryStream();
        var writer = PipeWriter.Create(output, new StreamPipeWriterOptions(leaveOpen: true));
        await transform(reader, writer, CancellationToken.None);
        await writer.CompleteAsync();
        await reader.CompleteAsync();
        return output.ToArray();
    }
}
