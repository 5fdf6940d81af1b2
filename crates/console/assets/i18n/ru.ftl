# Русский каталог консоли (Fluent). Идентификаторы и атрибуты — как в en.ftl.

app-title = hotline
station-label = Станция
login-heading = Вход в консоль горячей линии
login-user = Пользователь
login-password = Пароль
login-submit = Войти
login-failed = Неверный пользователь или пароль.
login-expired = Сеанс завершён. Войдите снова; неотправленное сообщение сохранено.
login-unreachable = Станция не отвечает. Проверьте, что она запущена.
logout = Выйти
logged-in-as = { $user } ({ $role })
on-watch = На дежурстве: { $users }
on-watch-none = На дежурстве: больше никого
role-operator = оператор
role-supervisor = руководитель
role-auditor = аудитор
language = Язык
mute = Звук вкл.
    .title = Сигналы тревоги включены; нажмите, чтобы выключить
muted = ЗВУК ВЫКЛ.
    .title = Сигналы тревоги выключены; нажмите, чтобы включить
utc-clock = UTC
dtg-label =
    .title = Группа даты-времени
unit-hours = ч
unit-minutes = мин
unit-seconds = с
dtg-months = ЯНВ ФЕВ МАР АПР МАЙ ИЮН ИЮЛ АВГ СЕН ОКТ НОЯ ДЕК

console-disconnected = КОНСОЛЬ ОТКЛЮЧЕНА от станции — переподключение. Это связь консоли, а не линия.
console-resynced = Консоль переподключена и синхронизирована.

lines-heading = Линии
line-state-up = РАБОТАЕТ
line-state-connecting = СОЕДИНЕНИЕ
line-state-down = НЕТ СВЯЗИ
line-peer = Линия с { $peer }
line-in-state = уже { $duration }
line-rtt = RTT { $rtt } мс
line-rtt-none = RTT —
line-undelivered = { $count ->
    [one] { $count } сообщение ждёт отправки
    [few] { $count } сообщения ждут отправки
   *[other] { $count } сообщений ждут отправки
  }
line-watch-none = Проверка дежурства: ещё не было
line-watch = Проверка дежурства { $time }, ответ за { $seconds } с ({ $user })
line-watch-pending = Проверка дежурства { $time }: ждём ответа
line-watch-missed = Проверка дежурства { $time }: ПРОПУЩЕНА
line-presence = { $count ->
    [0] { $peer }: на дежурстве НИКОГО
   *[other] { $peer }: на дежурстве { $count }
}
line-presence-unknown = Дежурство на той стороне: нет сведений
line-figures = 24 ч: ответов в срок { $answered } из { $sent } (пропущено { $missed }), p50 { $p50 } с, макс. { $max } с; FLASH подтверждены p50 { $flash } с
line-figures-none = 24 ч: проверок дежурства ещё не было
lines-none = У этой станции нет линий.

conversation-heading = Переписка с { $peer }
conversation-none = Выберите линию.
pinned-heading = Требует вашего подтверждения
log-empty = На этой линии ещё нет сообщений.
direction-out = { $from } → { $to }
direction-in = { $from } → { $to }
acknowledge = Подтвердить
    .title = Сообщить другой стороне, что вы прочли сообщение
acknowledged-by = Подтвердил { $user } в { $time }
state-queued = В ОЧЕРЕДИ
state-sent = ОТПРАВЛЕНО
state-delivered = ДОСТАВЛЕНО
state-acknowledged = ПОДТВЕРЖДЕНО
state-awaiting-ack = ОЖИДАЕТ ПОДТВЕРЖДЕНИЯ
time-created = В очереди: { $time }
time-sent = Отправлено: { $time }
time-delivered = Доставлено: { $time }
time-acknowledged = Подтверждено: { $time }
time-received = Получено: { $time }
time-pending = —
author = автор { $user }

precedence = Срочность
precedence-ROUTINE = ОБЫЧНАЯ
precedence-PRIORITY = ПРИОРИТЕТНАЯ
precedence-IMMEDIATE = НЕМЕДЛЕННАЯ
precedence-FLASH = МОЛНИЯ
compose-heading = Новое сообщение
compose-body = Сообщение для { $peer }
compose-placeholder =
    .placeholder = Введите сообщение. Ctrl+Enter — отправить.
message-language = Язык сообщения
send = Отправить
    .title = Отправить (Ctrl+Enter)
send-failed = Не отправлено: { $reason }
draft-kept = Черновик сохранён.

alerts-heading = Тревоги
alert-flash = Сообщение МОЛНИЯ от { $peer }
alert-immediate = НЕМЕДЛЕННОЕ сообщение от { $peer }
alert-line-down = Линия с { $peer }: НЕТ СВЯЗИ
alert-line-restored = (связь восстановлена)
alert-critical = КРИТИЧНО: { $message }
alert-warning = ВНИМАНИЕ: { $message }
alert-watch-check = ПРОВЕРКА ДЕЖУРСТВА от { $peer }: ответить до { $deadline }
alert-conflict = Конфликт уведомлений: { $title }
alert-ack = Подтвердить

record-heading = Журнал
record-checkpoint = Последняя контрольная точка
record-origin = Журнал
record-size = Записей
record-root = Корневой хеш
record-signed-by = Подписано: { $name }
record-cosigned = Заверено { $name } в { $time }
record-not-cosigned = Другая сторона ещё не заверила.
record-last-cosigned = Последняя заверенная: { $size } записей, { $name } в { $time }
record-unavailable = Подписанные контрольные точки на этой станции пока недоступны.
record-export = Скачать выгрузку журнала
record-refresh = Обновить

map-heading = Уведомления и конфликты
map-label =
    .aria-label = Карта уведомлений; стрелки — сдвиг, плюс и минус — масштаб
map-zoom-in =
    .aria-label = Крупнее
    .title = Крупнее
map-zoom-out =
    .aria-label = Мельче
    .title = Мельче
map-reset = Сбросить вид
draw-polygon = Нарисовать район
    .title = Щёлкайте точки на карте; двойной щелчок или Enter — готово
draw-circle = Нарисовать круг
    .title = Щёлкните центр, затем край
draw-cancel = Отменить рисование
draw-finish = Завершить район
draw-hint-polygon = Щёлкайте углы (или стрелки и Пробел); двойной щелчок или Enter — готово; Escape — отмена.
draw-hint-circle = Щёлкните центр, затем край (или стрелки и Пробел); Escape — отмена.
legend-ours = Наши уведомления
legend-theirs = Их уведомления
legend-conflict = Конфликт
notice-form-heading = Новое уведомление
notice-kind = Вид
kind-air_operations = Полёты авиации
kind-missile_test = Испытательный пуск ракеты
kind-naval_exercise = Военно-морские учения
kind-airspace_closure = Закрытие воздушного пространства
kind-ground_operations = Наземные действия
kind-other = Другое
notice-title = Заголовок
notice-alt-min = Высота от (м)
notice-alt-max = Высота до (м)
notice-start = Начало (UTC)
notice-end = Окончание (UTC)
notice-remarks = Примечания
notice-json = Уведомление в виде JSON
notice-file = Подать уведомление
notice-discard = Отказаться
notice-filed = Уведомление подано.
notice-file-failed = Не подано: { $reason }
notices-unavailable = Уведомления и конфликты на этой станции пока недоступны.
notices-ours = Наши уведомления
notices-theirs = Их уведомления
conflicts = Конфликты
conflicts-none = Конфликтов нет.
notices-none = Нет.
notice-radius = радиус { $km } км
notice-alt = { $min }–{ $max } м
conflict-between = { $a } ⟷ { $b }

error-network = станция не отвечает
error-unknown = { $message }

# Администрирование (только для руководителей смены) и свой пароль.
login-password-changed = Пароль изменён, все ваши сеансы завершены. Войдите с новым паролем.
nav-label =
    .aria-label = Страницы
nav-console = Консоль
nav-admin = Администрирование
admin-heading = Администрирование
admin-refresh = Обновить
admin-users-heading = Пользователи
admin-tokens-heading = API-токены
admin-lines-heading = Линии
admin-lines-hint = Линии добавляются и удаляются сразу, без перезапуска. Прочитайте номер безопасности вслух руководителю смены другой станции: на обоих концах он один и тот же. Чтобы закрепить другой ключ, удалите линию и добавьте её снова.
line-add-heading = Добавить линию
line-add-peer = Станция
line-add-key = Ключ станции
line-add-key-hint =
    .placeholder = последняя строка, которую печатает `hotline key` на той станции
line-add-addrs = Адреса
line-add-addrs-hint =
    .placeholder = HOST:PORT, сначала основной, через пробел
line-add = Добавить линию
line-added = Линия к { $peer } добавлена и подключается. Номер безопасности: { $number }
line-remove = Удалить
line-remove-confirm = Удалить линию к { $peer }? Она сразу закроется, подключения { $peer } будут отклоняться; её сообщения останутся в журнале.
line-removed = Линия к { $peer } удалена.
line-safety-number = Номер безопасности: { $number }
admin-col-name = Имя
admin-col-role = Роль
admin-col-state = Состояние
admin-col-last-login = Последний вход
admin-col-actions = Действия
admin-col-id = ID
admin-col-user = Пользователь
admin-col-label = Метка
admin-col-created = Создан
admin-col-expires = Истекает
admin-col-peer = Станция
admin-col-addrs = Адреса
admin-col-key = Ключ
admin-loading = Загрузка…
admin-failed = Не выполнено: { $reason }
admin-forbidden = Эта страница доступна только руководителям смены.
admin-never = никогда
admin-none = Нет.
admin-you = (вы)
admin-self-locked =
    .title = Нельзя отключить, понизить или удалить собственную учётную запись; свой пароль меняйте через «Сменить мой пароль».
admin-role-of =
    .aria-label = Роль пользователя { $user }
user-state-active = активен
user-state-disabled = ОТКЛЮЧЁН
user-add-heading = Добавить пользователя
user-add-name = Имя
user-add-name-hint =
    .placeholder = латинские буквы, цифры, . _ -
user-add-password = Пароль
user-add = Добавить
user-added = Пользователь { $user } добавлен.
user-disable = Отключить
user-enable = Включить
user-reset-password = Сбросить пароль
user-remove = Удалить
user-disabled = Пользователь { $user } отключён: его сеансы, потоки событий и токены завершены.
user-enabled = Пользователь { $user } включён.
user-removed = Пользователь { $user } удалён.
user-role-changed = { $user } теперь { $role }.
user-password-reset = Для { $user } задан новый пароль: его сеансы и токены завершены.
user-disable-confirm = Отключить { $user }? Его сеансы, открытые консоли и API-токены сразу завершатся.
user-remove-confirm = Удалить { $user }? Его сеансы, открытые консоли и API-токены сразу завершатся; его действия останутся в журнале.
user-reset-title = Новый пароль для { $user }
user-reset-explain = Его сеансы и API-токены сразу завершатся; сообщите ему новый пароль.
token-create-heading = Создать токен
token-label-hint =
    .placeholder = назначение, например: ноутбук дежурного 2
token-days = Срок действия (дней)
token-days-hint =
    .placeholder = пусто: до отзыва
token-create = Создать токен
token-created-for = Токен { $id } для { $user }:
token-secret-label = Новый токен
token-secret-warning = Скопируйте токен сейчас: больше он показан не будет.
token-copy = Копировать
token-copied = Скопировано.
token-copy-failed = Выделите токен и скопируйте его вручную.
token-secret-done = Я скопировал токен
token-revoke = Отозвать
token-revoked = Токен { $id } отозван.
token-never = бессрочно
password-open = Сменить мой пароль
password-heading = Сменить мой пароль
password-explain = Все ваши сеансы завершатся, включая этот: войдите снова с новым паролем.
password-current = Текущий пароль
password-new = Новый пароль
password-repeat = Новый пароль ещё раз
password-min-hint =
    .placeholder = не менее 8 символов
password-submit = Сменить пароль
password-mismatch = Новые пароли не совпадают.
password-too-short = Новый пароль должен быть не короче 8 символов.
password-wrong = Текущий пароль неверен.
dialog-cancel = Отмена
dialog-ok = OK

# Звонки (calls.js, ring.js)
calls-heading = Звонки
calls-bar-heading = Звонок
calls-none = Звонков ещё не было.
call-button = ПОЗВОНИТЬ
call-button-label = Позвонить { $peer }: зазвонят все консоли, где выполнен вход
call-incoming = ВЫЗОВ от { $station } — { $operator }
call-answer = Ответить
call-decline = Отклонить
call-hangup = Положить трубку
call-end-elsewhere = Завершить звонок
call-ringing-out = Вызываем { $peer }…
call-connecting = Соединяем с { $peer }…
call-answered = Разговор с { $peer } (ответил { $user })
call-audio-connecting = подключаем звук…
call-audio-connected = звук есть
call-audio-far-silent = нет звука с той стороны: связь между станциями, возможно, прервана
call-audio-no-microphone = нет микрофона: вас не слышно
call-audio-failed = нет звука: { $reason }
call-elsewhere-in = Вызов от { $peer }: принят на другой консоли этой станции
call-elsewhere-out = { $user } вызывает { $peer } с другой консоли
call-elsewhere-answered = { $peer }: разговор идёт на другой консоли ({ $user })
call-title-ringing = ☎ ВЫЗЫВАЕТ { $peer }
call-error-line_down = Линия с { $peer } не работает: вызов туда не пройдёт. Попытка записана в журнал.
call-error-call_in_progress = На линии с { $peer } уже идёт вызов или разговор.
call-error = Не удалось позвонить: { $message }
call-error-action = Станция отказала: { $message }
call-dir-in = ВХ.
call-dir-out = ИСХ.
call-who = { $user } ({ $station })
call-called-by = звонил { $who }
call-answered-by = ответил { $who }
call-not-answered = без ответа
call-state-ringing = вызов
call-state-answered = разговор
call-state-ended = завершён
call-state-declined = отклонён
call-state-missed = пропущен
call-state-cancelled = отменён
call-state-failed = сбой
call-state-superseded = вытеснен
call-recording = Запись ({ $duration })
call-recording-cut-off = Запись ({ $duration }, оборвана)
call-recording-label = Прослушать запись разговора на этой станции
call-recording-stopped-here = Здесь разговор больше не записывается: запись остановилась ({ $why }).
call-recording-stopped-peer = Станция { $peer } больше не записывает этот разговор ({ $why }).
call-recording-deleted-retention = Запись ({ $duration }) удалена { $at }: истёк срок хранения
call-recording-deleted-by = Запись ({ $duration }) удалена { $at } ({ $why })
sound-enable = Нажмите, чтобы включить звук
    .title = Браузер не даёт консоли звучать, пока вы в ней не нажмёте: звонков и тревог пока не слышно

## Тексты станции. Всё, что ниже, формирует сама станция (crates/i18n), а не браузер:
## сводки уведомлений, конфликты, тревоги, проверки дежурства, присутствие и письма
## оповещения — для журнала, потока событий, вебхуков и почты. Идентификаторы
## начинаются с "sys-" и перечислены в crates/i18n/src/ids.rs; тест формирует каждый на
## обоих языках. Время приходит готовым: $start — UTC ("2026-11-25 10:00Z"),
## $start_dtg — группа даты-времени ("251000Z НОЯ 26"). Дробные числа — с точкой.

sys-notice-summary = { $kind } «{ $title }»: { $area }, { $altitude }, { $start } – { $end } ({ $start_dtg } – { $end_dtg })
sys-area-circle = круг радиусом { $radius_km } км с центром { $center }
sys-area-polygon = многоугольник, { $vertices ->
        [one] { $vertices } вершина
        [few] { $vertices } вершины
       *[other] { $vertices } вершин
    }
sys-area-multipolygon = { $polygons ->
        [one] { $polygons } многоугольник
        [few] { $polygons } многоугольника
       *[other] { $polygons } многоугольников
    }, { $vertices ->
        [one] { $vertices } вершина
        [few] { $vertices } вершины
       *[other] { $vertices } вершин
    }
sys-altitude-band = { $min_m }–{ $max_m } м ({ $min_fl }–{ $max_fl })
sys-altitude-unlimited = SFC–UNL

sys-notice-filed = Станция { $station } подала уведомление: { $summary }
sys-notice-amended = Станция { $station } изменила уведомление (версия { $version }): { $summary }
sys-notice-cancelled = Станция { $station } отменила уведомление «{ $title }».
sys-notice-expired = Уведомление «{ $title }» станции { $station } истекло { $end } ({ $end_dtg }).
sys-notice-acknowledged = Уведомление «{ $title }» (версия { $version }) подтверждено: { $by }, станция { $station }.

sys-conflict-raised = Конфликт между «{ $a_title }» ({ $a_station }) и «{ $b_title }» ({ $b_station }): { $lateral_km ->
        [0] районы пересекаются
       *[other] между районами { $lateral_km } км
    }; { $vertical_m ->
        [0] диапазоны высот пересекаются
       *[other] между диапазонами высот { $vertical_m } м
    }; { $time_min ->
        [0] периоды пересекаются
       *[other] между периодами { $time_min } мин
    }.
sys-conflict-resolved = Конфликт снят: «{ $a_title }» ({ $a_station }) и «{ $b_title }» ({ $b_station }) больше не конфликтуют.

sys-severity-critical = КРИТИЧНО
sys-severity-warning = ПРЕДУПРЕЖДЕНИЕ
sys-severity-info = СВЕДЕНИЯ
sys-alarm-line_down = Линия с { $peer }: нет связи уже { $seconds } с.
sys-alarm-watch_check_missed = { $side ->
        [here] Мы не ответили на проверку дежурства от станции { $peer } за { $minutes } мин.
       *[peer] На станции { $peer } никто не ответил на нашу проверку дежурства за { $minutes } мин.
    }
sys-alarm-ack_overdue = { $side ->
        [here] { $count ->
            [1] Сообщение { $message_id } (срочность { $precedence }) от станции { $peer } ждёт нашего подтверждения уже { $minutes } мин.
           *[other] Сообщений (срочность { $precedence }) от станции { $peer }, ждущих нашего подтверждения { $minutes } мин и дольше: { $count } (самое раннее: { $message_id }).
        }
       *[peer] { $count ->
            [1] Сообщение { $message_id } (срочность { $precedence }) для станции { $peer } не подтверждено за { $minutes } мин.
           *[other] Сообщений (срочность { $precedence }) для станции { $peer }, не подтверждённых за { $minutes } мин и дольше: { $count } (самое раннее: { $message_id }).
        }
    }
sys-alarm-peer_key_mismatch = Станция { $peer } предъявила ключ { $presented } вместо закреплённого { $pinned }: соединение отклонено.
sys-alarm-record_fork = Журнал станции { $peer } не продолжает заверенный нами журнал: журнал раздвоился.
sys-alarm-storage = Ошибка хранилища: { $detail }
sys-alarm-low_disk = Мало места на диске: свободно { $free_mb } МБ.
sys-alarm-nobody_on_watch = На станции { $peer } никого нет на дежурстве уже { $minutes } мин.
sys-alarm-recording_stopped = Запись разговора по линии со станцией { $peer } остановилась до конца разговора ({ $detail }): остаток разговора здесь не записан. Освободите или исправьте диск, затем снимите эту тревогу.
sys-alarm-peer_recording_stopped = Станция { $peer } сообщает, что её запись разговора по этой линии остановилась до конца разговора ({ $detail }): эта станция запись продолжает, но с этого момента запись есть только с нашей стороны. Сообщите дежурной смене { $peer }; снимите тревогу, когда это известно.
sys-alarm-line_task_failed = Линия со станцией { $peer } перестала работать внутри этой станции ({ $detail }); станция перезапустила её. Сообщите инженерам станции.
sys-alarm-cosignature_refused = Станция { $peer } отказалась заверить наш журнал размера { $size }: { $reason }
sys-alarm-record_integrity = Журнал на диске этой станции не совпадает с её подписанными контрольными точками: { $detail }
sys-alarm-acknowledged = Тревога подтверждена ({ $by }): { $alarm }
sys-alarm-cleared = Тревога снята ({ $by }): { $alarm }
sys-alarm-cleared-auto = Тревога снята, причина устранена: { $alarm }

sys-watch-check-requested = Проверка дежурства отправлена на станцию { $peer }: оператор должен ответить в течение { $minutes } мин.
sys-watch-check-received = Проверка дежурства от станции { $peer }: ответьте в течение { $minutes } мин.
sys-watch-check-answered = Ответ на проверку дежурства: { $by }, станция { $station }, за { $seconds } с.
sys-watch-check-missed = { $side ->
        [here] Мы не ответили на проверку дежурства от станции { $peer } за { $minutes } мин.
       *[peer] Станция { $peer } не ответила на нашу проверку дежурства за { $minutes } мин.
    }
sys-presence = { $peer }: { $count ->
        [0] на дежурстве никого
        [one] на дежурстве { $count } человек
        [few] на дежурстве { $count } человека
       *[other] на дежурстве { $count } человек
    }

sys-escalation-subject = [{ $severity }] { $station }: { $alarm }
sys-escalation-body =
    Тревога на станции { $station } ({ $severity }):
    { $alarm }

    Поднята { $raised } ({ $raised_dtg }); не подтверждена уже { $minutes } мин.
    Подтвердите её в консоли, чтобы остановить оповещение: { $url }
