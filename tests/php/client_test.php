<?php
// The PHP client against a real node (run by tests/client/php_client_test.cc):
//   php client_test.php BASE_URL ADMIN_TOKEN            every call and outcome
//   php client_test.php BASE_URL ADMIN_TOKEN stampede KEY COUNTER_FILE
//       one getOrGenerate whose generator appends a line to COUNTER_FILE and
//       takes 300 ms; prints the payload it got
declare(strict_types=1);

require __DIR__ . '/../../client/php/ClusterCache.php';

use ClusterCache\Client;
use ClusterCache\Outcome;
use ClusterCache\StoreOutcome;

[$self, $base, $token] = $argv;
// BASE_URL may list several nodes, comma-separated.
$cache = new Client(explode(',', $base), ['token' => $token, 'timeout' => 10]);

if (($argv[3] ?? '') === 'stampede') {
    [, , , , $key, $counter] = $argv;
    echo $cache->getOrGenerate('php-stampede', $key, function () use ($counter) {
        file_put_contents($counter, getmypid() . "\n", FILE_APPEND | LOCK_EX);
        usleep(300000);
        return 'generated once';
    }, ttl: 60, wait: 10.0);
    exit(0);
}

$failures = 0;
function check(bool $ok, string $what): void
{
    global $failures;
    if (!$ok) {
        $failures++;
        fwrite(STDERR, "FAILED: $what\n");
    }
}

$run = bin2hex(random_bytes(4));
$scope = "php-$run";

// The read route.
check($cache->get($scope, 'a')->outcome === Outcome::MISS, 'get of nothing: miss');
$stored = $cache->store($scope, 'a/b c', 'hello', null, 60, ['t1', 't2'], 'text/html');
check($stored->outcome === StoreOutcome::STORED && $stored->mtime > 0, 'unconditional store');
$hit = $cache->get($scope, 'a/b c');
check($hit->outcome === Outcome::HIT, 'get: hit');
check($hit->payload === 'hello', 'get: the payload');
check($hit->contentType === 'text/html', 'get: the content type');
check($hit->tags === ['t1', 't2'], 'get: the tags');
check($hit->mtime === $stored->mtime, 'get: the mtime stored');
check($hit->servedBy === 'php-node1', 'get: served by');

// The lease protocol, outcome by outcome.
$miss = $cache->fetch($scope, 'gen');
check($miss->outcome === Outcome::MISS_LEASE && $miss->leased(), 'fetch: miss_lease');
check($miss->leaseExpiresUs > 0, 'fetch: the lease expiry');
$timeout = $cache->fetch($scope, 'gen', 0.2);
check($timeout->outcome === Outcome::TIMEOUT, 'fetch while another holds the lease: timeout');
$commit = $cache->store($scope, 'gen', 'v1', $miss->leaseToken);
check($commit->outcome === StoreOutcome::STORED, 'leased store');
check($cache->store($scope, 'gen', 'v0', $miss->leaseToken)->outcome !== StoreOutcome::STORED,
    'the token is spent');
check($cache->fetch($scope, 'gen')->payload === 'v1', 'fetch: hit');
$cache->invalidateScope($scope);
$stale = $cache->fetch($scope, 'gen');
check($stale->outcome === Outcome::STALE_LEASE && $stale->payload === 'v1', 'after invalidate: stale_lease');
check($cache->fetch($scope, 'gen')->outcome === Outcome::STALE, 'another caller: stale');
check($cache->get($scope, 'gen')->outcome === Outcome::MISS, 'the read route: no fresh entry');
check($cache->get($scope, 'gen', true)->payload === 'v1', 'the read route, stale allowed');
check($cache->release($scope, 'gen', $stale->leaseToken) === true, 'release');
check($cache->release($scope, 'gen', $stale->leaseToken) === false, 'release again: not held');
check($cache->store($scope, 'gen', 'late', $stale->leaseToken)->outcome === StoreOutcome::LEASE_LOST,
    'store after release: lease lost');

// getOrGenerate.
$calls = 0;
$gen = function () use (&$calls) {
    $calls++;
    return "page $calls";
};
check($cache->getOrGenerate($scope, 'page', $gen, tags: ['p1']) === 'page 1', 'generated');
check($cache->getOrGenerate($scope, 'page', $gen, tags: ['p1']) === 'page 1', 'then cached');
check($calls === 1, 'the generator ran once');
$keys = $cache->invalidateTags(['p1', 'unrelated']);
check(count($keys) === 2 && $keys['p1'] > 0, 'invalidateTags: both keys moved');
check($cache->getOrGenerate($scope, 'page', $gen, tags: ['p1']) === 'page 2', 'regenerated after the tag');
try {
    $cache->getOrGenerate($scope, 'boom', function () {
        throw new RuntimeException('render failed');
    });
    check(false, 'the exception comes through');
} catch (RuntimeException $e) {
    check($e->getMessage() === 'render failed', 'the exception comes through');
}
check($cache->fetch($scope, 'boom')->outcome === Outcome::MISS_LEASE, 'a throwing generator gave the lease back');

// Admin.
$cache->store($scope, 'x/1', '1');
$cache->store($scope, 'x/2', '2');
check($cache->expire($scope, prefix: 'x/') === 2, 'expire by prefix');
check($cache->get($scope, 'x/1')->outcome === Outcome::MISS, 'expired');
check($cache->delete($scope, 'x/1') === 1, 'delete one');
check(isset($cache->stats()['node_counters']['http_requests']), 'stats');

// PSR-16's shape over one scope.
$simple = new ClusterCache\SimpleCache($cache, $scope . '-simple');
check($simple->get('k', 'dflt') === 'dflt', 'simple: default for a miss');
check($simple->set('k', 'v', new DateInterval('PT1H')), 'simple: set with a DateInterval');
check($simple->has('k') && $simple->get('k') === 'v', 'simple: has, get');
check($simple->setMultiple(['a' => '1', 'b' => '2'], 60), 'simple: setMultiple');
check($simple->getMultiple(['a', 'b', 'c'], 'none') === ['a' => '1', 'b' => '2', 'c' => 'none'],
    'simple: getMultiple');
check($simple->delete('a') && !$simple->has('a'), 'simple: delete');
check($simple->clear() && $simple->get('b') === null, 'simple: clear');
check($simple->set('gone', 'x', 0) && !$simple->has('gone'), 'simple: a TTL of 0 stores nothing');

// Errors and failover.
try {
    $cache->get('', 'x');
    check(false, 'an empty scope is refused');
} catch (ClusterCache\Error $e) {
    check($e->status === 400 && $e->field === 'scope', "refused by field: {$e->status} {$e->field}");
}
$dead = new Client(['http://127.0.0.1:1', explode(',', $base)[0]], ['token' => $token, 'connect_timeout' => 0.5]);
check($dead->get($scope, 'a/b c', true)->payload === 'hello', 'the next server when one cannot be reached');
try {
    (new Client(['http://127.0.0.1:1'], ['connect_timeout' => 0.5]))->get($scope, 'a');
    check(false, 'no server: Unavailable');
} catch (ClusterCache\Unavailable $e) {
    check(true, 'no server: Unavailable');
}
$reader = new Client(explode(',', $base));
try {
    $reader->invalidateAll();
    check(false, 'without a token: refused');
} catch (ClusterCache\Error $e) {
    check($e->status === 401, 'without a token: 401');
}

echo $failures === 0 ? "ok\n" : "$failures failed\n";
exit($failures === 0 ? 0 : 1);
