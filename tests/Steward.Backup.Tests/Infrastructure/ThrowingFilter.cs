using System.IO.Pipelines;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Tests.Infrastructure;

/// <summary>A pass-through filter that throws once a number of bytes went through.</summary>
internal sealed class ThrowingFilter(long failAfterBytes) : IBackupFilter
{
    public string Name => "exploding";

    public IReadOnlyDictionary<string, string> Parameters { get; } = new Dictionary<string, string>();

    public async ValueTask EncodeAsync(PipeReader input, PipeWriter output, CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            foreach (var segment in result.Buffer)
            {
                await output.WriteAsync(segment, cancellationToken);
            }

            total += result.Buffer.Length;
            input.AdvanceTo(result.Buffer.End);
            if (total > failAfterBytes)
            {
                throw new InvalidOperationException("filter bug");
            }

            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    public ValueTask DecodeAsync(PipeReader input, PipeWriter output, CancellationToken cancellationToken) =>
        throw new NotSupportedException();
}
