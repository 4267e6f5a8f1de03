using System.IO.Pipelines;

namespace Steward.Backup.Pipeline;

/// <summary>A sink that copies the plaintext into a caller-owned stream.</summary>
internal sealed class StreamSink(Stream destination, string name) : IRestoreSink
{
    public string Name => name;

    public async ValueTask ReadFromAsync(PipeReader input, CancellationToken cancellationToken)
    {
        await input.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
        await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
