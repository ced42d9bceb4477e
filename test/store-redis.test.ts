import { createRedisStore } from '../src/store/redis.ts';
import { runStoreCases } from '../src/store/store.case.ts';
import { describeWithRedis } from './support/redis-server.ts';

let clusters = 0;
const uniqueCluster = () => `t${process.pid}-${++clusters}`;

describeWithRedis('redis store', (server) => {
  runStoreCases('redis', ({ changeLogLength }) =>
    createRedisStore({
      url: server().url,
      cluster: uniqueCluster(),
      streamMaxLen: changeLogLength,
      watchBlockMs: 1000,
    }),
  );
});
