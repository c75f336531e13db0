/* syscost — what reading one small procfs/sysfs file costs on THIS host, natively
 * (bench/apply: turns the system-call counts of the TCG VM profile into an estimate).
 * Reads only /proc/self and /sys/devices/system; touches no cgroup. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(void){
  const char *f[]={"/proc/self/status","/proc/self/stat","/sys/devices/system/node/node0/cpulist","/sys/devices/system/cpu/online"};
  char b[4096];
  for(int k=0;k<4;k++){int N=20000;double t=now();
    for(int i=0;i<N;i++){int fd=open(f[k],O_RDONLY|O_CLOEXEC);struct stat st;fstat(fd,&st);while(read(fd,b,sizeof b)>0);close(fd);}
    double dt=(now()-t)/N; printf("%s %.3f %.3f\n",f[k],dt*1e6,dt*1e6/5);}
}
