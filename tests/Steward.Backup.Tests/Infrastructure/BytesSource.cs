using System.IO.Pipelines;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Tests.Infrastructure;

/// <summary>A source that writes a byte array in small writes, optionally failing after some bytes.</summary>
internal sealed class BytesSource(byte[] data, string name = "bytes", int failAfter = -1) : IBackupSource, IManifestContributor
{
    public string Name => name;

    public IReadOnlyDictionary<string, string> ManifestProperties { get; } = new Dictionary<string, string> { ["stopLsn"] = "0/3000100" };

    public async ValueTask WriteToAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        for (var offset = 0; offset < data.Length; offset += 100_000)
        {
            if (failAfter >= 0 && offset >= failAfter)
            {
                throw new IOException("simulated source failure");
            }

            var chunk = data.AsMemory(offset, Math.Min(100_000, data.Length - offset));
            await output.WriteAsync(chunk, cancellationToken);
        }
    }
}
