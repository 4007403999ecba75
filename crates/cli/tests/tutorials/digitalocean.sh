crm configure property stonith-enabled=false
crm configure property no-quorum-policy=ignore
crm configure primitive FloatIP ocf:digitalocean:floatip \
  params do_token=your_digitalocean_personal_access_token \
  floating_ip=your_floating_ip
crm configure primitive Nginx ocf:heartbeat:nginx \
  params httpd="/usr/sbin/nginx" \
  op start timeout="40s" interval="0" \
  op monitor timeout="30s" interval="10s" on-fail="restart" \
  op stop timeout="60s" interval="0"
crm configure clone Nginx-clone Nginx
crm configure colocation FloatIP-Nginx inf: FloatIP Nginx-clone
