using System.IO.Pipelines;
using Steward.Backup.Pipeline;

namespace Steward.Server.Backups.Wal;

/// <summary>A pipeline source reading a stream to its end: a WAL file as PostgreSQL's archive_command sends it.</summary>
internal sealed class StreamSource(Stream input, string name) : IBackupSource
{
    public string Name => name;

    public async ValueTask WriteToAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        await input.CopyToAsync(output, cancellationToken);
        await output.FlushAsync(cancellationToken);
    }
}
