#!/bin/sh
# Writes the password file Mosquitto reads: the connector's account from MQTT_CONNECTOR_PASSWORD,
# and one account per device from MQTT_DEVICE_PASSWORDS ("device-id:password,…").
set -eu
: "${MQTT_CONNECTOR_PASSWORD:?set MQTT_CONNECTOR_PASSWORD in .env}"
cp /init/mosquitto.conf /init/acl /mosquitto/config/
passwd=/mosquitto/config/passwd
: > "$passwd"
mosquitto_passwd -b "$passwd" pusher-connector "$MQTT_CONNECTOR_PASSWORD"
old_ifs=$IFS; IFS=,
for entry in ${MQTT_DEVICE_PASSWORDS:-}; do
  mosquitto_passwd -b "$passwd" "${entry%%:*}" "${entry#*:}"
done
IFS=$old_ifs
chmod 0700 "$passwd"
