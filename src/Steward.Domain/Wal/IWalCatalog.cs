namespace Steward.Wal;

/// <summary>Steward's durable record of each instance's archived WAL and restore points.</summary>
public interface IWalCatalog
{
    Task SaveWalFileAsync(WalFile file, CancellationToken cancellationToken);

    Task<WalFile?> GetWalFileAsync(string instanceId, string name, CancellationToken cancellationToken);

    /// <summary>An instance's archived files, by name (so by timeline, then position).</summary>
    Task<IReadOnlyList<WalFile>> ListWalFilesAsync(string instanceId, CancellationToken cancellationToken);

    Task DeleteWalFileAsync(string instanceId, string name, CancellationToken cancellationToken);

    /// <summary>Records a restore point; false when the instance already has one of that name.</summary>
    Task<bool> AddRestorePointAsync(RestorePoint point, CancellationToken cancellationToken);

    Task<IReadOnlyList<RestorePoint>> ListRestorePointsAsync(string instanceId, CancellationToken cancellationToken);
}
