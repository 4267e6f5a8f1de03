using System.IO.Pipelines;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Tests.Infrastructure;

/// <summary>Streams a large amount of data by repeating one random block, without holding it in memory.</summary>
internal sealed class RepeatingSource(long totalBytes) : IBackupSource
{
    private readonly byte[] _block = TestData.Random(4 * 1024 * 1024, seed: 99);

    public string Name => "repeating";

    public async ValueTask WriteToAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        for (long written = 0; written < totalBytes;)
        {
            var count = (int)Math.Min(256 * 1024, totalBytes - written);
            var offset = (int)(written % _block.Length);
            count = Math.Min(count, _block.Length - offset);
            await output.WriteAsync(_block.AsMemory(offset, count), cancellationToken);
            written += count;
        }
    }
}
