using Steward.Backup.Filters.Age;
using Steward.Backup.Filters.Gzip;
using Steward.Backup.Filters.Zstd;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Tests.Infrastructure;

/// <summary>Builds the backup and restore pipelines the tests run.</summary>
internal static class Workflows
{
    public static readonly DateTimeOffset Epoch = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    public static BackupPipeline Backup(IBackupSource source, IBackupStorage storage, string chain, AgeRecipient? recipient = null)
    {
        var builder = new BackupPipelineBuilder().UseSource(source).UseStorage(storage).UseTimeProvider(new FakeTime(Epoch));
        foreach (var filter in chain.Split('+', StringSplitOptions.RemoveEmptyEntries))
        {
            _ = filter switch
            {
                "none" => builder,
                "zstd" => builder.AddZstd(new ZstdOptions { Level = 3 }),
                "gzip" => builder.AddGzip(),
                "age" => builder.AddAgeEncryption(new AgeEncryptionOptions { Recipients = [recipient!] }),
                _ => throw new ArgumentException(filter),
            };
        }

        return builder.Build();
    }

    public static BackupRequest Request(string backupId = "b1", string? key = null) => new()
    {
        BackupId = backupId,
        InstanceId = "instance-1",
        Engine = "postgresql",
        ServerVersion = "17.2",
        Key = key,
        Properties = new Dictionary<string, string> { ["timeline"] = "1" },
    };

    public static async Task<(PipelineResult Result, byte[] Data)> RestoreAsync(IBackupStorage storage, string key,
        AgeIdentity? identity = null, CancellationToken cancellationToken = default)
    {
        using var output = new MemoryStream();
        var builder = new RestorePipelineBuilder().UseStorage(storage).UseStreamSink(output);
        if (identity is not null)
        {
            builder.UseAgeIdentities(identity);
        }

        var result = await builder.Build().RunAsync(new RestoreRequest(key), cancellationToken: cancellationToken);
        return (result, output.ToArray());
    }

    public static async Task<List<StorageObject>> ListAsync(IBackupStorage storage, string prefix = "")
    {
        var objects = new List<StorageObject>();
        await foreach (var item in storage.ListAsync(prefix, CancellationToken.None))
        {
            objects.Add(item);
        }

        return objects;
    }
}
